/**
 * Single-use challenge nonces, held in memory: a nonce is only good for the
 * gateway process that issued it, within NONCE_TTL_MS, once. No timers:
 * expired entries are swept when new ones are issued.
 */
import { randomBytes } from 'node:crypto';
import { NONCE_TTL_MS } from '@autoclaw/shared';
import type { ChallengeResponse } from '@autoclaw/shared';

export interface NonceStore {
  issue(): ChallengeResponse;
  /** True once for a nonce that was issued and has not expired; false otherwise. */
  consume(nonce: string): boolean;
  readonly size: number;
}

export interface NonceStoreOptions {
  now: () => number;
  ttlMs?: number;
  /** Outstanding nonces kept at most; the oldest go first (bounds memory under a flood). */
  maxOutstanding?: number;
}

export function createNonceStore(opts: NonceStoreOptions): NonceStore {
  const ttl = opts.ttlMs ?? NONCE_TTL_MS;
  const max = opts.maxOutstanding ?? 10_000;
  // Map keeps insertion order, which is also expiry order.
  const outstanding = new Map<string, number>();

  function sweep(now: number): void {
    for (const [nonce, expiresAt] of outstanding) {
      if (expiresAt > now && outstanding.size < max) break;
      outstanding.delete(nonce);
    }
  }

  return {
    issue() {
      const now = opts.now();
      sweep(now);
      const nonce = randomBytes(32).toString('base64url');
      const expiresAt = now + ttl;
      outstanding.set(nonce, expiresAt);
      return { nonce, expiresAt };
    },
    consume(nonce) {
      const expiresAt = outstanding.get(nonce);
      if (expiresAt === undefined) return false;
      outstanding.delete(nonce);
      return expiresAt > opts.now();
    },
    get size() {
      return outstanding.size;
    },
  };
}
