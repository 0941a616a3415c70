/**
 * Invite codes for `--signup invite`: an owner makes one (optionally bound to
 * an email), hands it over, and it creates exactly one account before it
 * expires. Stored hashed; the code itself is shown once.
 */
import { AppError } from '@autoclaw/shared';
import type { Invite } from '@autoclaw/shared';
import type { ManagerDb } from '../db';
import { hashToken, newId, newToken } from './tokens';

export const DEFAULT_INVITE_TTL_HOURS = 7 * 24;

interface InviteRow {
  id: string;
  code_hash: string;
  email: string | null;
  created_by: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  used_by: string | null;
}

function toInvite(row: InviteRow): Invite {
  return { id: row.id, email: row.email, createdAt: row.created_at, expiresAt: row.expires_at, usedAt: row.used_at };
}

export interface Invites {
  create(createdBy: string, opts: { email?: string; ttlHours?: number }): Invite & { code: string };
  list(): Invite[];
  /** Marks the invite used by `userId`; FORBIDDEN when it cannot make an account for `email`. Call inside the sign-up transaction. */
  consume(code: string, email: string, userId: string): void;
  /** Checks without using (before the slow password hash). */
  check(code: string, email: string): void;
}

const INVALID = 'this invite code is not valid (unknown, already used or expired); ask the owner for a new one';

export function createInvites(db: ManagerDb, now: () => number): Invites {
  const byHash = db.prepare('SELECT * FROM invites WHERE code_hash = ?');
  function usable(code: string, email: string): InviteRow {
    const row = byHash.get(hashToken(code)) as InviteRow | undefined;
    if (!row || row.used_at !== null || row.expires_at <= now()) throw new AppError('FORBIDDEN', INVALID);
    if (row.email !== null && row.email !== email.toLowerCase()) throw new AppError('FORBIDDEN', 'this invite code is for another email address');
    return row;
  }
  return {
    create(createdBy, opts) {
      const code = newToken('inv');
      const at = now();
      const row: InviteRow = {
        id: newId(),
        code_hash: hashToken(code),
        email: opts.email?.toLowerCase() ?? null,
        created_by: createdBy,
        created_at: at,
        expires_at: at + (opts.ttlHours ?? DEFAULT_INVITE_TTL_HOURS) * 3_600_000,
        used_at: null,
        used_by: null,
      };
      db.prepare(
        'INSERT INTO invites (id, code_hash, email, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(row.id, row.code_hash, row.email, row.created_by, row.created_at, row.expires_at);
      return { ...toInvite(row), code };
    },
    list() {
      return (db.prepare('SELECT * FROM invites ORDER BY created_at DESC, rowid DESC LIMIT 200').all() as InviteRow[]).map(toInvite);
    },
    check(code, email) {
      usable(code, email);
    },
    consume(code, email, userId) {
      const row = usable(code, email);
      db.prepare('UPDATE invites SET used_at = ?, used_by = ? WHERE id = ?').run(now(), userId, row.id);
    },
  };
}
