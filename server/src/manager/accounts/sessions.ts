/**
 * Sign-in sessions as rotating, revocable tokens. A session (a "family")
 * lives at most `sessionTtlMs`; its current token works for `tokenTtlMs`
 * and is exchanged for a new one by `refresh`. A token that was rotated
 * away and shows up again means it was copied: the whole session is revoked
 * (refresh-token reuse detection). Requests already in flight when a token
 * rotates may still use it for `rotationGraceMs`; a refresh never may.
 */
import { AppError } from '@autoclaw/shared';
import type { ManagerDb } from '../db';
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

export interface SessionRow {
  id: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  last_used_at: number;
  revoked_at: number | null;
  revoke_reason: string | null;
  remote: string | null;
}

interface TokenRow {
  token_hash: string;
  session_id: string;
  created_at: number;
  expires_at: number;
  rotated_at: number | null;
}

export type RevokeReason = 'signed out' | 'password changed' | 'password reset' | 'token reuse';

export interface SessionStore {
  create(userId: string, remote: string | null): IssuedToken;
  /** The live session a token belongs to; UNAUTHORIZED otherwise (revoking the session on reuse). */
  authenticate(token: string): SessionRow;
  /** The session by id if it is still live (sockets re-check on every call); UNAUTHORIZED otherwise. */
  check(sessionId: string): SessionRow;
  /** Exchanges the current token for a new one. */
  refresh(token: string): IssuedToken;
  revoke(sessionId: string, reason: RevokeReason): boolean;
  /** Revokes every live session of a user but `exceptSessionId`; returns the revoked ids. */
  revokeUser(userId: string, reason: RevokeReason, exceptSessionId?: string): string[];
  /** Drops sessions that ended more than a day ago. */
  prune(): void;
}

export interface SessionStoreOptions {
  db: ManagerDb;
  now: () => number;
  timings?: Partial<SessionTimings>;
  /** Told about every revoked session (to close its sockets). */
  onRevoked?: (sessionIds: string[], reason: RevokeReason) => void;
}

const SIGNED_OUT = 'not signed in (the session ended, was revoked or expired); sign in again';

function unauthorized(message = SIGNED_OUT): AppError {
  return new AppError('UNAUTHORIZED', message);
}

export function createSessionStore(opts: SessionStoreOptions): SessionStore {
  const { db, now } = opts;
  const t: SessionTimings = { ...DEFAULT_SESSION_TIMINGS, ...opts.timings };
  const insertSession = db.prepare(
    'INSERT INTO auth_sessions (id, user_id, created_at, expires_at, last_used_at, remote) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const insertToken = db.prepare('INSERT INTO session_tokens (token_hash, session_id, created_at, expires_at) VALUES (?, ?, ?, ?)');
  const tokenByHash = db.prepare('SELECT * FROM session_tokens WHERE token_hash = ?');
  const sessionById = db.prepare('SELECT * FROM auth_sessions WHERE id = ?');
  const markRotated = db.prepare('UPDATE session_tokens SET rotated_at = ? WHERE token_hash = ? AND rotated_at IS NULL');
  const touch = db.prepare('UPDATE auth_sessions SET last_used_at = ? WHERE id = ? AND last_used_at < ?');
  const revokeOne = db.prepare('UPDATE auth_sessions SET revoked_at = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL');

  function issue(sessionId: string, sessionExpiresAt: number): IssuedToken {
    const token = newToken('acs');
    const expiresAt = Math.min(now() + t.tokenTtlMs, sessionExpiresAt);
    insertToken.run(hashToken(token), sessionId, now(), expiresAt);
    return { token, sessionId, expiresAt, sessionExpiresAt };
  }

  function live(session: SessionRow | undefined): SessionRow {
    if (!session || session.revoked_at !== null || session.expires_at <= now()) throw unauthorized();
    return session;
  }

  function revoke(sessionId: string, reason: RevokeReason): boolean {
    const changed = revokeOne.run(now(), reason, sessionId).changes > 0;
    if (changed) opts.onRevoked?.([sessionId], reason);
    return changed;
  }

  const REUSED = 'this session was ended because one of its old tokens was used again (a copied token?); sign in again';

  /** The token's row and its live session; `reused` when a rotated token is used past `graceMs`. */
  function lookup(token: string, graceMs: number): { row: TokenRow; session: SessionRow; reused: boolean } {
    const row = tokenByHash.get(hashToken(token)) as TokenRow | undefined;
    if (!row) throw unauthorized();
    const session = live(sessionById.get(row.session_id) as SessionRow | undefined);
    const reused = row.rotated_at !== null && now() - row.rotated_at > graceMs;
    if (!reused && row.expires_at <= now()) throw unauthorized();
    return { row, session, reused };
  }

  /** Revokes the session outside any transaction (so the revocation sticks), then refuses. */
  function refuseReuse(sessionId: string): never {
    revoke(sessionId, 'token reuse');
    throw unauthorized(REUSED);
  }

  const refreshTx = db.transaction((token: string): IssuedToken | { reusedSession: string } => {
    const { row, session, reused } = lookup(token, -1);
    if (reused) return { reusedSession: session.id };
    markRotated.run(now(), row.token_hash);
    return issue(session.id, session.expires_at);
  });

  return {
    create(userId, remote) {
      const id = newId();
      const at = now();
      const expiresAt = at + t.sessionTtlMs;
      return db.transaction(() => {
        insertSession.run(id, userId, at, expiresAt, at, remote);
        return issue(id, expiresAt);
      }).immediate();
    },
    authenticate(token) {
      const { session, reused } = lookup(token, t.rotationGraceMs);
      if (reused) refuseReuse(session.id);
      // Writes at most once a minute per session.
      touch.run(now(), session.id, now() - 60_000);
      return session;
    },
    check(sessionId) {
      return live(sessionById.get(sessionId) as SessionRow | undefined);
    },
    refresh(token) {
      const result = refreshTx.immediate(token);
      if ('reusedSession' in result) refuseReuse(result.reusedSession);
      return result;
    },
    revoke,
    revokeUser(userId, reason, exceptSessionId) {
      const at = now();
      const ids = (
        db.prepare('SELECT id FROM auth_sessions WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?').all(userId, at) as Array<{ id: string }>
      )
        .map((r) => r.id)
        .filter((id) => id !== exceptSessionId);
      db.transaction(() => {
        for (const id of ids) revokeOne.run(at, reason, id);
      })();
      if (ids.length > 0) opts.onRevoked?.(ids, reason);
      return ids;
    },
    prune() {
      const cutoff = now() - 24 * 3_600_000;
      db.prepare('DELETE FROM auth_sessions WHERE expires_at < ? OR (revoked_at IS NOT NULL AND revoked_at < ?)').run(cutoff, cutoff);
    },
  };
}
