/**
 * The one-time setup link: while no account exists, each manager start makes
 * a new setup token (on SQLite older unused ones stop working; replicas on
 * PostgreSQL each print their own, all valid until one is used) and prints
 * `http://127.0.0.1:PORT/setup?token=…`; the first person to open it creates
 * the owner account. Single use, expires after `ttlMs`, stored hashed.
 */
import { AppError } from '@autoclaw/shared';
import type { Executor, ManagerDb } from '../db';
import { hashToken, newToken } from './tokens';

export const SETUP_LINK_TTL_MS = 60 * 60_000;

export interface SetupLinks {
  /** A new setup token, or null when an account exists already. */
  issue(): Promise<{ token: string; expiresAt: number } | null>;
  /** Whether `token` would be accepted now. */
  isValid(token: string): Promise<boolean>;
  /** Marks the token used; FORBIDDEN when it is unknown, used or expired. Call inside the owner's transaction. */
  consume(t: Executor, token: string): Promise<void>;
}

const NO_LONGER_VALID = 'this setup link is no longer valid (already used or expired); restart the manager for a new one';

export function createSetupLinks(db: ManagerDb, now: () => number, countUsers: (t?: Executor) => Promise<number>, ttlMs = SETUP_LINK_TTL_MS): SetupLinks {
  // One manager per SQLite database: its restart replaces the link it printed before.
  const replaceUnused = db.engine === 'sqlite';
  async function valid(t: Executor, token: string): Promise<boolean> {
    const row = await t.selectFrom('setup_tokens').select(['expires_at', 'used_at']).where('token_hash', '=', hashToken(token)).executeTakeFirst();
    return row !== undefined && row.used_at === null && row.expires_at > now();
  }
  return {
    async issue() {
      if ((await countUsers()) > 0) return null;
      const token = newToken('stp');
      const at = now();
      await db.tx(async (t) => {
        if (replaceUnused) await t.deleteFrom('setup_tokens').where('used_at', 'is', null).execute();
        else await t.deleteFrom('setup_tokens').where('used_at', 'is', null).where('expires_at', '<=', at).execute();
        await t.insertInto('setup_tokens').values({ token_hash: hashToken(token), created_at: at, expires_at: at + ttlMs, used_at: null }).execute();
      });
      return { token, expiresAt: at + ttlMs };
    },
    isValid: async (token) => (await countUsers()) === 0 && (await valid(db.k, token)),
    async consume(t, token) {
      if (!(await valid(t, token))) throw new AppError('FORBIDDEN', NO_LONGER_VALID);
      const done = await t.updateTable('setup_tokens').set({ used_at: now() }).where('token_hash', '=', hashToken(token)).where('used_at', 'is', null).executeTakeFirst();
      if (Number(done.numUpdatedRows) !== 1) throw new AppError('FORBIDDEN', NO_LONGER_VALID);
    },
  };
}
