/**
 * Turns are serialized per session: each session has a FIFO lane of user
 * message ids and runs one turn at a time; different sessions run
 * concurrently. A message that arrives while a turn runs waits in the lane;
 * nothing is dropped or merged. Lanes disappear when they run empty, so the
 * map holds only sessions with work.
 */

/** Why a running turn was aborted; the runner reads it from `signal.reason`. */
export type AbortCause = 'cancel' | 'shutdown' | 'deleted';

export type TurnRunner = (sessionId: string, messageId: string, signal: AbortSignal) => Promise<void>;

interface Lane {
  items: string[];
  current: { messageId: string; controller: AbortController } | null;
  drained: Promise<void>;
}

export interface SessionQueueOptions {
  run: TurnRunner;
  onError: (err: unknown, sessionId: string, messageId: string) => void;
  /** Called when a session's lane has run empty. */
  onLaneIdle?: (sessionId: string) => void;
  /** Called when every lane has run empty (no turn running or queued). */
  onAllIdle?: () => void;
}

export class SessionQueue {
  readonly #lanes = new Map<string, Lane>();
  readonly #idleWaiters: Array<() => void> = [];
  readonly #opts: SessionQueueOptions;
  #stopped = false;

  constructor(opts: SessionQueueOptions) {
    this.#opts = opts;
  }

  /** Adds a turn to the session's lane; false after `stop()` or when already queued. */
  enqueue(sessionId: string, messageId: string): boolean {
    if (this.#stopped) return false;
    let lane = this.#lanes.get(sessionId);
    if (lane) {
      if (lane.current?.messageId === messageId || lane.items.includes(messageId)) return false;
      lane.items.push(messageId);
      return true;
    }
    lane = { items: [messageId], current: null, drained: Promise.resolve() };
    this.#lanes.set(sessionId, lane);
    lane.drained = this.#drain(sessionId, lane);
    return true;
  }

  async #drain(sessionId: string, lane: Lane): Promise<void> {
    // Let the caller (e.g. `send`) return before the turn starts.
    await Promise.resolve();
    for (let messageId = lane.items.shift(); messageId !== undefined; messageId = lane.items.shift()) {
      const controller = new AbortController();
      lane.current = { messageId, controller };
      try {
        await this.#opts.run(sessionId, messageId, controller.signal);
      } catch (err) {
        this.#opts.onError(err, sessionId, messageId);
      }
      lane.current = null;
      if (this.#stopped) lane.items.length = 0;
    }
    this.#lanes.delete(sessionId);
    this.#opts.onLaneIdle?.(sessionId);
    if (this.#lanes.size === 0) {
      for (const wake of this.#idleWaiters.splice(0)) wake();
      this.#opts.onAllIdle?.();
    }
  }

  /** Aborts the session's running turn; false when none runs. */
  cancel(sessionId: string, cause: AbortCause = 'cancel'): boolean {
    const current = this.#lanes.get(sessionId)?.current;
    if (!current || current.controller.signal.aborted) return false;
    current.controller.abort(cause);
    return true;
  }

  /** Removes a message that waits (not the running one); true when it was waiting. */
  remove(sessionId: string, messageId: string): boolean {
    const lane = this.#lanes.get(sessionId);
    const at = lane ? lane.items.indexOf(messageId) : -1;
    if (!lane || at < 0) return false;
    lane.items.splice(at, 1);
    return true;
  }

  /** Drops every waiting message of the session; returns their ids. */
  clear(sessionId: string): string[] {
    const lane = this.#lanes.get(sessionId);
    return lane ? lane.items.splice(0) : [];
  }

  /** Turns running or waiting, over every session. */
  depth(): number {
    let n = 0;
    for (const lane of this.#lanes.values()) n += lane.items.length + (lane.current ? 1 : 0);
    return n;
  }

  isBusy(sessionId: string): boolean {
    return this.#lanes.has(sessionId);
  }

  running(sessionId: string): string | null {
    return this.#lanes.get(sessionId)?.current?.messageId ?? null;
  }

  /** Resolves when the session's lane has run empty. */
  async sessionIdle(sessionId: string): Promise<void> {
    for (let lane = this.#lanes.get(sessionId); lane; lane = this.#lanes.get(sessionId)) await lane.drained;
  }

  /** Resolves when no session has a turn running or waiting. */
  idle(): Promise<void> {
    if (this.#lanes.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops taking turns, drops waiting ones (they stay queued in the store) and aborts running ones. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const lane of this.#lanes.values()) {
      lane.items.length = 0;
      lane.current?.controller.abort('shutdown' satisfies AbortCause);
    }
    await this.idle();
  }

  get size(): number {
    return this.#lanes.size;
  }
}
