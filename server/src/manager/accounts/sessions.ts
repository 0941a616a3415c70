/**
 * Sign-in sessions as rotating, revocable tokens. A session (a "family")
 * lives at most `sessionTtlMs`; its current token works for `tokenTtlMs`
 * and is exchanged for a new one by `refresh`. A token that was rotated
 * away and shows up again means it was copied: the whole session is revoked
 * (refresh-token reuse detection). Requests already in flight when a token
 * rotates may still use it for `rotationGraceMs`; a refresh never may.
 * Everything is in the database, so any replica serves any session.
 */
import { AppError } from '@autoclaw/shared';
import type { Executor, ManagerDb } from '../db';
import type { AuthSessionsTable, SessionTokensTable } from './schema';
import { hashToken, newId, newToken } from './tokens';

export interface SessionTimings {
  /** How long one token works unless refreshed (default 7 days). */
  tokenTtlMs: number;
  /** How long a session lasts, refreshes or not (default 30 days). */
  sessionTtlMs: number;
  /** How long a rotated token still authenticates ordinary calls (default 10 s). */
  rotationGraceMs: number;
}

export const DEFAULT_SESSION_TIMINGS: SessionTimings = {
  tokenTtlMs: 7 * 24 * 3_600_000,
  sessionTtlMs: 30 * 24 * 3_600_000,
  rotationGraceMs: 10_000,
};

export interface IssuedToken {
  token: string;
  sessionId: string;
  expiresAt: number;
  sessionExpiresAt: number;
}

export type SessionRow = AuthSessionsTable;
type TokenRow = SessionTokensTable;

export type RevokeReason = 'signed out' | 'password changed' | 'password reset' | 'token reuse';

export interface SessionStore {
  create(userId: string, remote: string | null): Promise<IssuedToken>;
  /** The live session a token belongs to; UNAUTHORIZED otherwise (revoking the session on reuse). */
  authenticate(token: string): Promise<SessionRow>;
  /** The session by id if it is still live (sockets re-check on every call); UNAUTHORIZED otherwise. */
  check(sessionId: string): Promise<SessionRow>;
  /** Exchanges the current token for a new one. */
  refresh(token: string): Promise<IssuedToken>;
  revoke(sessionId: string, reason: RevokeReason): Promise<boolean>;
  /** Revokes every live session of a user but `exceptSessionId`; returns the revoked ids. */
  revokeUser(userId: string, reason: RevokeReason, exceptSessionId?: string): Promise<string[]>;
  /** Drops sessions that ended more than a day ago. */
  prune(): Promise<void>;
}

export interface SessionStoreOptions {
  db: ManagerDb;
  now: () => number;
  timings?: Partial<SessionTimings>;
  /** Told about every revoked session (to close its sockets). */
  onRevoked?: (sessionIds: string[], reason: RevokeReason) => void | Promise<void>;
}

const SIGNED_OUT = 'not signed in (the session ended, was revoked or expired); sign in again';
const REUSED = 'this session was ended because one of its old tokens was used again (a copied token?); sign in again';

function unauthorized(message = SIGNED_OUT): AppError {
  return new AppError('UNAUTHORIZED', message);
}

export function createSessionStore(opts: SessionStoreOptions): SessionStore {
  const { db, now } = opts;
  const t: SessionTimings = { ...DEFAULT_SESSION_TIMINGS, ...opts.timings };

  async function issue(x: Executor, sessionId: string, sessionExpiresAt: number): Promise<IssuedToken> {
    const token = newToken('acs');
    const expiresAt = Math.min(now() + t.tokenTtlMs, sessionExpiresAt);
    await x.insertInto('session_tokens').values({ token_hash: hashToken(token), session_id: sessionId, created_at: now(), expires_at: expiresAt, rotated_at: null }).execute();
    return { token, sessionId, expiresAt, sessionExpiresAt };
  }

  function live(session: SessionRow | undefined): SessionRow {
    if (!session || session.revoked_at !== null || session.expires_at <= now()) throw unauthorized();
    return session;
  }

  const sessionById = (x: Executor, id: string) => x.selectFrom('auth_sessions').selectAll().where('id', '=', id).executeTakeFirst();

  async function revoke(sessionId: string, reason: RevokeReason): Promise<boolean> {
    const done = await db.k
      .updateTable('auth_sessions')
      .set({ revoked_at: now(), revoke_reason: reason })
      .where('id', '=', sessionId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    const changed = Number(done.numUpdatedRows) > 0;
    if (changed) await opts.onRevoked?.([sessionId], reason);
    return changed;
  }

  /** The token's row and its live session; `reused` when a rotated token is used past `graceMs`. */
  async function lookup(x: Executor, token: string, graceMs: number): Promise<{ row: TokenRow; session: SessionRow; reused: boolean }> {
    const row = await x.selectFrom('session_tokens').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst();
    if (!row) throw unauthorized();
    const session = live(await sessionById(x, row.session_id));
    const reused = row.rotated_at !== null && now() - row.rotated_at > graceMs;
    if (!reused && row.expires_at <= now()) throw unauthorized();
    return { row, session, reused };
  }

  /** Revokes the session outside any transaction (so the revocation sticks), then refuses. */
  async function refuseReuse(sessionId: string): Promise<never> {
    await revoke(sessionId, 'token reuse');
    throw unauthorized(REUSED);
  }

  return {
    async create(userId, remote) {
      const id = newId();
      const at = now();
      const expiresAt = at + t.sessionTtlMs;
      // Two writes, no transaction: a session left without its token (a crash between) is unusable and pruned.
      await db.k.insertInto('auth_sessions').values({ id, user_id: userId, created_at: at, expires_at: expiresAt, last_used_at: at, revoked_at: null, revoke_reason: null, remote }).execute();
      return issue(db.k, id, expiresAt);
    },
    async authenticate(token) {
      const { session, reused } = await lookup(db.k, token, t.rotationGraceMs);
      if (reused) await refuseReuse(session.id);
      // Writes at most once a minute per session.
      if (session.last_used_at < now() - 60_000) {
        await db.k.updateTable('auth_sessions').set({ last_used_at: now() }).where('id', '=', session.id).where('last_used_at', '<', now() - 60_000).execute();
      }
      return session;
    },
    async check(sessionId) {
      return live(await sessionById(db.k, sessionId));
    },
    async refresh(token) {
      const result = await db.tx(async (x): Promise<IssuedToken | { reusedSession: string }> => {
        const { row, session, reused } = await lookup(x, token, -1);
        if (reused) return { reusedSession: session.id };
        // Only one of two refreshes racing with the same token (two replicas) rotates it.
        const done = await x.updateTable('session_tokens').set({ rotated_at: now() }).where('token_hash', '=', row.token_hash).where('rotated_at', 'is', null).executeTakeFirst();
        if (Number(done.numUpdatedRows) !== 1) return { reusedSession: session.id };
        return issue(x, session.id, session.expires_at);
      });
      if ('reusedSession' in result) return refuseReuse(result.reusedSession);
      return result;
    },
    revoke,
    async revokeUser(userId, reason, exceptSessionId) {
      const at = now();
      const ids = (await db.k.selectFrom('auth_sessions').select('id').where('user_id', '=', userId).where('revoked_at', 'is', null).where('expires_at', '>', at).execute())
        .map((r) => r.id)
        .filter((id) => id !== exceptSessionId);
      if (ids.length > 0) {
        await db.k.updateTable('auth_sessions').set({ revoked_at: at, revoke_reason: reason }).where('id', 'in', ids).where('revoked_at', 'is', null).execute();
        await opts.onRevoked?.(ids, reason);
      }
      return ids;
    },
    async prune() {
      const cutoff = now() - 24 * 3_600_000;
      await db.k
        .deleteFrom('auth_sessions')
        .where((eb) => eb.or([eb('expires_at', '<', cutoff), eb.and([eb('revoked_at', 'is not', null), eb('revoked_at', '<', cutoff)])]))
        .execute();
    },
  };
}
