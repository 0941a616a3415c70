/**
 * Counts failed handshakes per remote address in a sliding window. Once an
 * address reaches the limit, every attempt from it is refused until its
 * oldest failure leaves the window. No timers: old entries are pruned lazily.
 */
export interface RateLimiter {
  /** Milliseconds until the address may try again; 0 when it may now. */
  blockedFor(key: string): number;
  fail(key: string): void;
  reset(): void;
}

export interface RateLimiterOptions {
  now: () => number;
  limit: number;
  windowMs: number;
  /** Addresses tracked at most (bounds memory). */
  maxKeys?: number;
}

export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  const failures = new Map<string, number[]>();
  const maxKeys = opts.maxKeys ?? 10_000;

  function recent(key: string, now: number): number[] {
    const list = failures.get(key);
    if (!list) return [];
    const kept = list.filter((t) => t > now - opts.windowMs);
    if (kept.length === 0) failures.delete(key);
    else failures.set(key, kept);
    return kept;
  }

  function prune(now: number): void {
    for (const key of failures.keys()) recent(key, now);
    // Still too many: forget the oldest addresses first.
    for (const key of failures.keys()) {
      if (failures.size < maxKeys) break;
      failures.delete(key);
    }
  }

  return {
    blockedFor(key) {
      const now = opts.now();
      const list = recent(key, now);
      if (list.length < opts.limit) return 0;
      const oldest = list[list.length - opts.limit] ?? now;
      return Math.max(1, oldest + opts.windowMs - now);
    },
    fail(key) {
      const now = opts.now();
      if (!failures.has(key) && failures.size >= maxKeys) prune(now);
      const list = recent(key, now);
      list.push(now);
      // Keep only what can matter for the limit.
      failures.set(key, list.slice(-opts.limit));
    },
    reset() {
      failures.clear();
    },
  };
}
