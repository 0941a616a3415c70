/**
 * Slows down whoever fails, never whoever succeeds: counts failed attempts
 * (bad pairing codes, tickets, device proofs) per key (a remote address) and,
 * past a few free ones, makes the key wait a delay that doubles with every
 * further failure, up to a cap. A key that stays quiet for `forgetAfterMs`
 * starts again from zero. The caller decides what a wait means: a guess of a
 * secret (a pairing code) is refused while waiting, a valid proof never is.
 * No timers: state is pruned lazily.
 */
export interface FailureThrottle {
  /** Milliseconds until `key` may try again; 0 when it may now. */
  waitFor(key: string): number;
  /** Records a failure of `key`; returns the wait it imposes from now (0 while failures are still free). */
  fail(key: string): number;
  /** Failures counted for `key` (after forgetting old ones). */
  failures(key: string): number;
}

export interface FailureThrottleOptions {
  now: () => number;
  /** Failures allowed without any delay (default 5). */
  freeFailures?: number;
  /** The first delay; each further failure doubles it (default 1 s). */
  baseDelayMs?: number;
  /** The longest delay (default 30 s). */
  maxDelayMs?: number;
  /** A key quiet this long is forgotten (default 15 minutes). */
  forgetAfterMs?: number;
  /** Keys tracked at most; the least recently failed go first (default 10,000). */
  maxKeys?: number;
}

interface Entry {
  count: number;
  lastAt: number;
  /** When the key may try again. */
  until: number;
}

export function createFailureThrottle(opts: FailureThrottleOptions): FailureThrottle {
  const free = opts.freeFailures ?? 5;
  const base = opts.baseDelayMs ?? 1_000;
  const max = opts.maxDelayMs ?? 30_000;
  const forgetAfter = opts.forgetAfterMs ?? 15 * 60_000;
  const maxKeys = opts.maxKeys ?? 10_000;
  // A Map keeps insertion order: re-inserting on each failure keeps the oldest first.
  const entries = new Map<string, Entry>();

  function current(key: string, now: number): Entry | undefined {
    const entry = entries.get(key);
    if (entry && now - entry.lastAt >= forgetAfter && now >= entry.until) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  }

  function delayAfter(count: number): number {
    if (count <= free) return 0;
    // 2 ** 30 already exceeds any sensible cap; avoid Infinity for huge counts.
    return Math.min(max, base * 2 ** Math.min(count - free - 1, 30));
  }

  return {
    waitFor(key) {
      const now = opts.now();
      const entry = current(key, now);
      return entry ? Math.max(0, entry.until - now) : 0;
    },
    fail(key) {
      const now = opts.now();
      const entry = current(key, now) ?? { count: 0, lastAt: now, until: now };
      entries.delete(key);
      if (entries.size >= maxKeys) {
        const oldest = entries.keys().next();
        if (!oldest.done) entries.delete(oldest.value);
      }
      entry.count += 1;
      entry.lastAt = now;
      entry.until = now + delayAfter(entry.count);
      entries.set(key, entry);
      return entry.until - now;
    },
    failures(key) {
      return current(key, opts.now())?.count ?? 0;
    },
  };
}
