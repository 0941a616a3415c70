/**
 * The manager session of this browser or app: the current (rotating) token
 * and the signed-in user, kept in localStorage so a reload stays signed in.
 * Another tab's sign-in, refresh or sign-out arrives through `storage`
 * events (see ManagerApp), so tabs never refresh with a rotated token.
 */
import { AuthResultSchema, type AuthResult } from '@autoclaw/shared';
import type { KeyValueStorage } from './outbox';

export type ManagerSession = AuthResult;

export const MANAGER_SESSION_KEY = 'autoclaw.manager.session';

/** Refresh once less than this is left of the token (tokens live days; a week by default). */
const REFRESH_WHEN_LEFT_MS = 24 * 3_600_000;

export interface ManagerSessionStore {
  /** The stored session unless it is malformed or already expired. */
  load(now: number): ManagerSession | null;
  save(session: ManagerSession): void;
  clear(): void;
}

export function createManagerSessionStore(storage: KeyValueStorage & Pick<Storage, 'removeItem'>, key = MANAGER_SESSION_KEY): ManagerSessionStore {
  return {
    load(now) {
      const raw = storage.getItem(key);
      if (raw === null) return null;
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        return null;
      }
      const session = AuthResultSchema.safeParse(parsed);
      if (!session.success || session.data.expiresAt <= now || session.data.sessionExpiresAt <= now) return null;
      return session.data;
    },
    save(session) {
      storage.setItem(key, JSON.stringify(session));
    },
    clear() {
      storage.removeItem(key);
    },
  };
}

/** Whether the token should be exchanged for a new one now (it runs out within a day, and the session goes on). */
export function shouldRefresh(session: ManagerSession, now: number): boolean {
  const left = session.expiresAt - now;
  return left < REFRESH_WHEN_LEFT_MS && session.sessionExpiresAt > session.expiresAt;
}

/** How long until shouldRefresh turns true (0 when it already is), capped so timers stay valid. */
export function msUntilRefresh(session: ManagerSession, now: number): number {
  return Math.min(Math.max(0, session.expiresAt - REFRESH_WHEN_LEFT_MS - now), 6 * 3_600_000);
}
