/**
 * Invite codes for `--signup invite`: an owner makes one (optionally bound to
 * an email), hands it over, and it creates exactly one account before it
 * expires. Stored hashed; the code itself is shown once.
 */
import { AppError } from '@autoclaw/shared';
import type { Invite } from '@autoclaw/shared';
import type { Executor, ManagerDb } from '../db';
import type { InvitesTable } from './schema';
import { hashToken, newId, newToken } from './tokens';

export const DEFAULT_INVITE_TTL_HOURS = 7 * 24;

type InviteRow = InvitesTable;

function toInvite(row: InviteRow): Invite {
  return { id: row.id, email: row.email, createdAt: row.created_at, expiresAt: row.expires_at, usedAt: row.used_at };
}

export interface Invites {
  create(createdBy: string, opts: { email?: string; ttlHours?: number }): Promise<Invite & { code: string }>;
  list(): Promise<Invite[]>;
  /** Marks the invite used by `userId`; FORBIDDEN when it cannot make an account for `email`. Call inside the sign-up transaction. */
  consume(t: Executor, code: string, email: string, userId: string): Promise<void>;
  /** Checks without using (before the slow password hash). */
  check(code: string, email: string): Promise<void>;
}

const INVALID = 'this invite code is not valid (unknown, already used or expired); ask the owner for a new one';

export function createInvites(db: ManagerDb, now: () => number): Invites {
  async function usable(t: Executor, code: string, email: string): Promise<InviteRow> {
    const row = await t.selectFrom('invites').selectAll().where('code_hash', '=', hashToken(code)).executeTakeFirst();
    if (!row || row.used_at !== null || row.expires_at <= now()) throw new AppError('FORBIDDEN', INVALID);
    if (row.email !== null && row.email !== email.toLowerCase()) throw new AppError('FORBIDDEN', 'this invite code is for another email address');
    return row;
  }
  return {
    async create(createdBy, opts) {
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
      await db.k.insertInto('invites').values(row).execute();
      return { ...toInvite(row), code };
    },
    async list() {
      const rows = await db.k.selectFrom('invites').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(200).execute();
      return rows.map(toInvite);
    },
    async check(code, email) {
      await usable(db.k, code, email);
    },
    async consume(t, code, email, userId) {
      const row = await usable(t, code, email);
      const done = await t.updateTable('invites').set({ used_at: now(), used_by: userId }).where('id', '=', row.id).where('used_at', 'is', null).executeTakeFirst();
      // Used by a concurrent sign-up (another replica) between the check and here.
      if (Number(done.numUpdatedRows) !== 1) throw new AppError('FORBIDDEN', INVALID);
    },
  };
}
