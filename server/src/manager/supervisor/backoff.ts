/** Exponential backoff with jitter, and the crash-loop window. */
export interface BackoffOptions {
  /** Delay before the first restart (default 100 ms: a crashed gateway is back within a second). */
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** ± this fraction of the delay, so many instances do not restart in step (default 0.2). */
  jitter?: number;
}

export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number): number {
  const initial = opts.initialMs ?? 100;
  const max = opts.maxMs ?? 30_000;
  const factor = opts.factor ?? 2;
  const jitter = opts.jitter ?? 0.2;
  const base = Math.min(max, initial * factor ** Math.max(0, attempt));
  return Math.max(0, Math.round(base * (1 + jitter * (2 * random() - 1))));
}

/** Restart times kept within `windowMs` of `now`; a crash loop is `limit` of them. */
export function withinWindow(times: number[], now: number, windowMs: number): number[] {
  return times.filter((t) => now - t < windowMs);
}
