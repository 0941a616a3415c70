/**
 * Sign-in throttling that slows whoever fails and never locks an owner out.
 *
 * Failures are counted per (account, address) and per address, in the
 * database (every replica counts the same). After a few free failures each
 * further one doubles the wait before that pair — or that address — may try
 * again (1 s, 2 s, 4 s, … up to 15 minutes); a success clears the pair's
 * count. So someone guessing at an account from one address slows only
 * themselves: the owner signing in from elsewhere is not affected, and from
 * the same address gets in with the right password once the (short) wait
 * is over. A device already paired with the account's instance proves it
 * with a signature and skips both waits; its own failures are counted
 * against its key instead (a stolen device key does not open a fast lane).
 * A count with no new failure for an hour is forgotten.
 */
import { createHash } from 'node:crypto';
import { AppError } from '@autoclaw/shared';
import type { ManagerDb } from '../db';

export interface SignInLimits {
  /** Failures of one account from one address before its sign-ins from there wait (default 3). */
  freeFailures: number;
  /** Failures from one address over all accounts before that address waits (default 20). */
  freeFailuresPerAddress: number;
  /** The first wait; each further failure doubles it (default 1 s). */
  baseDelayMs: number;
  /** The longest wait (default 15 minutes). */
  maxDelayMs: number;
  /** A count with no failure for this long starts over (default 1 hour: longer than the longest wait, so waiting one out does not reset it). */
  windowMs: number;
}

export const DEFAULT_SIGNIN_LIMITS: SignInLimits = {
  freeFailures: 3,
  freeFailuresPerAddress: 20,
  baseDelayMs: 1_000,
  maxDelayMs: 15 * 60_000,
  windowMs: 60 * 60_000,
};

/** Who is trying: an account from an address, or a device already paired with that account. */
export type SignInAttempt = { email: string; remote: string; deviceKey?: undefined } | { email: string; remote: string; deviceKey: string };

export interface Throttle {
  /** RATE_LIMITED (with retryAfterMs) while the attempt must wait; else whether it has failures on record. */
  check(attempt: SignInAttempt): Promise<{ failedBefore: boolean }>;
  failed(attempt: SignInAttempt): Promise<void>;
  /** Only the address failed (a bad setup link or invite code; `scope` counts apart, e.g. 'door' for the instance door). */
  addressFailed(remote: string, scope?: string): Promise<void>;
  /** RATE_LIMITED (with retryAfterMs) while the address must wait after failures in `scope`. */
  checkAddress(remote: string, scope: string): Promise<void>;
  /** Clears the attempt's count (nothing to do when `check` found none). */
  succeeded(attempt: SignInAttempt, checked: { failedBefore: boolean }): Promise<void>;
}

const keyOf = (...parts: string[]) => createHash('sha256').update(parts.join('\n')).digest('base64url').slice(0, 32);

function waitText(ms: number): string {
  const s = Math.ceil(ms / 1000);
  return s < 120 ? `${s} s` : `${Math.ceil(s / 60)} min`;
}

export function createThrottle(db: ManagerDb, now: () => number, limits: SignInLimits): Throttle {
  const pairKey = (a: SignInAttempt) => keyOf('pair', a.email.toLowerCase(), a.remote);
  const addressKey = (remote: string, scope = 'address') => keyOf(scope, remote);
  const deviceKey = (key: string) => keyOf('device', key);
  /** The counters an attempt is held by. */
  const keysOf = (a: SignInAttempt): Array<{ key: string; free: number; who: string }> =>
    a.deviceKey !== undefined
      ? [{ key: deviceKey(a.deviceKey), free: limits.freeFailures, who: 'for this device' }]
      : [
          { key: pairKey(a), free: limits.freeFailures, who: 'for this account from this address' },
          { key: addressKey(a.remote), free: limits.freeFailuresPerAddress, who: 'from this address' },
        ];

  let counted = 0;

  function waitFor(row: { failures: number; last_at: number } | undefined, free: number): number {
    const at = now();
    if (!row || row.last_at <= at - limits.windowMs || row.failures < free) return 0;
    const delay = Math.min(limits.maxDelayMs, limits.baseDelayMs * 2 ** Math.min(30, row.failures - free));
    return Math.max(0, row.last_at + delay - at);
  }

  async function count(keys: string[]): Promise<void> {
    const at = now();
    const stale = at - limits.windowMs;
    for (const key of keys) {
      await db.k
        .insertInto('signin_failures')
        .values({ key, failures: 1, first_at: at, last_at: at })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet((eb) => ({
            // A count that lay still for the window starts over.
            failures: eb.case().when('signin_failures.last_at', '<=', stale).then(1).else(eb('signin_failures.failures', '+', 1)).end(),
            first_at: eb.case().when('signin_failures.last_at', '<=', stale).then(at).else(eb.ref('signin_failures.first_at')).end(),
            last_at: at,
          })),
        )
        .execute();
    }
    // Now and then, forget counts nobody added to for a day.
    if (++counted % 100 === 0) await db.k.deleteFrom('signin_failures').where('last_at', '<', at - Math.max(limits.windowMs, 24 * 3_600_000)).execute();
  }

  return {
    async check(attempt) {
      const keys = keysOf(attempt);
      const rows = await db.k.selectFrom('signin_failures').selectAll().where('key', 'in', keys.map((k) => k.key)).execute();
      let wait = 0;
      let who = '';
      for (const k of keys) {
        const w = waitFor(rows.find((r) => r.key === k.key), k.free);
        if (w > wait) [wait, who] = [w, k.who];
      }
      if (wait > 0) {
        throw new AppError('RATE_LIMITED', `too many failed sign-ins ${who}; try again in ${waitText(wait)}`, { details: { retryAfterMs: wait } });
      }
      return { failedBefore: rows.some((r) => r.key === keys[0]?.key) };
    },
    async failed(attempt) {
      await count(keysOf(attempt).map((k) => k.key));
    },
    async addressFailed(remote, scope) {
      await count([addressKey(remote, scope)]);
    },
    async checkAddress(remote, scope) {
      const key = addressKey(remote, scope);
      const row = await db.k.selectFrom('signin_failures').selectAll().where('key', '=', key).executeTakeFirst();
      const wait = waitFor(row, limits.freeFailuresPerAddress);
      if (wait > 0) throw new AppError('RATE_LIMITED', `too many refused attempts from this address; try again in ${waitText(wait)}`, { details: { retryAfterMs: wait } });
    },
    async succeeded(attempt, checked) {
      if (!checked.failedBefore) return;
      const keys = attempt.deviceKey !== undefined ? [deviceKey(attempt.deviceKey)] : [pairKey(attempt)];
      await db.k.deleteFrom('signin_failures').where('key', 'in', keys).execute();
    },
  };
}
