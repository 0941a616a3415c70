/**
 * How a channel's runs end and restart: which errors mean *down* (waiting
 * for the owner), the time limits, the reconnect backoff, and the two
 * requests that end a run on purpose.
 */
export const PERMANENT = new Set(['UNAUTHORIZED', 'FORBIDDEN', 'NOT_CONFIGURED', 'BAD_REQUEST']);
export const STOP_TIMEOUT_MS = 5_000;
/** A run connected this long resets the backoff. */
export const STABLE_MS = 60_000;
/** A down channel tries again after this long even without a settings change. */
export const DOWN_RETRY_MS = 10 * 60_000;

export function defaultBackoff(attempt: number): number {
  const base = Math.min(60_000, 1_000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** The run ends because the channel is disabled or the gateway stops. */
export class StopRequest extends Error {
  constructor() {
    super('stopped');
  }
}

/** The run ends to reconnect with new settings. */
export class RestartRequest extends Error {
  constructor() {
    super('restarting with new settings');
  }
}
