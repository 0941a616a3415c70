/**
 * The one-time setup link: while no account exists, each manager start makes
 * a new setup token (older unused ones stop working) and prints
 * `http://127.0.0.1:PORT/setup?token=…`; the first person to open it creates
 * the owner account. Single use, expires after `ttlMs`, stored hashed.
 */
import { AppError } from '@autoclaw/shared';
import type { ManagerDb } from '../db';
import { hashToken, newToken } from './tokens';

export const SETUP_LINK_TTL_MS = 60 * 60_000;

export interface SetupLinks {
  /** A new setup token, or null when an account exists already. */
  issue(): { token: string; expiresAt: number } | null;
  /** Whether `token` would be accepted now. */
  isValid(token: string): boolean;
  /** Marks the token used; FORBIDDEN when it is unknown, used or expired. Call inside the owner's transaction. */
  consume(token: string): void;
}

export function createSetupLinks(db: ManagerDb, now: () => number, countUsers: () => number, ttlMs = SETUP_LINK_TTL_MS): SetupLinks {
  const find = db.prepare('SELECT expires_at, used_at FROM setup_tokens WHERE token_hash = ?');
  function valid(token: string): boolean {
    const row = find.get(hashToken(token)) as { expires_at: number; used_at: number | null } | undefined;
    return row !== undefined && row.used_at === null && row.expires_at > now();
  }
  return {
    issue() {
      if (countUsers() > 0) return null;
      const token = newToken('stp');
      const at = now();
      db.transaction(() => {
        db.prepare('DELETE FROM setup_tokens WHERE used_at IS NULL').run();
        db.prepare('INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES (?, ?, ?)').run(hashToken(token), at, at + ttlMs);
      }).immediate();
      return { token, expiresAt: at + ttlMs };
    },
    isValid: (token) => countUsers() === 0 && valid(token),
    consume(token) {
      if (!valid(token)) {
        throw new AppError('FORBIDDEN', 'this setup link is no longer valid (already used or expired); restart the manager for a new one');
      }
      db.prepare('UPDATE setup_tokens SET used_at = ? WHERE token_hash = ?').run(now(), hashToken(token));
    },
  };
}
