/**
 * Liveness from the platform itself: a channel's adapter calls `beat()` each
 * time the platform proves the connection alive (a long-poll round that came
 * back, a heartbeat ack, a sync response) — never merely because a socket is
 * open. Past the limit without a beat, the run is ended and reconnected.
 */
export class Watchdog {
  readonly #now: () => number;
  #limitMs: number;
  #lastBeat: number;

  constructor(opts: { now: () => number; limitMs: number }) {
    this.#now = opts.now;
    this.#limitMs = opts.limitMs;
    this.#lastBeat = opts.now();
  }

  /** The platform answered; `limitMs` (when given) is when the next proof is due at the latest. */
  beat(limitMs?: number): void {
    this.#lastBeat = this.#now();
    if (limitMs !== undefined && Number.isFinite(limitMs) && limitMs > 0) this.#limitMs = limitMs;
  }

  /** A new limit, without a beat. */
  setLimit(limitMs: number): void {
    if (Number.isFinite(limitMs) && limitMs > 0) this.#limitMs = limitMs;
  }

  get limitMs(): number {
    return this.#limitMs;
  }

  silentMs(): number {
    return this.#now() - this.#lastBeat;
  }

  overdue(): boolean {
    return this.silentMs() > this.#limitMs;
  }

  /** How often to look: often enough to notice within the limit + a tenth of it (at most a second late). */
  checkEveryMs(): number {
    return Math.max(25, Math.min(1_000, Math.floor(this.#limitMs / 10)));
  }
}
