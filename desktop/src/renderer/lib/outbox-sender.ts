import type { ErrorCode } from '@autoclaw/shared';
import { describeError } from './client-error';
import type { Outbox, OutboxItem } from './outbox';

export interface OutboxSenderDeps {
  outbox: Outbox;
  /** chat.send; resolves once the gateway stored the message (or knew it already). */
  send(item: { sessionId: string; clientId: string; text: string }): Promise<void>;
  /** Id of the default session, made on first use (idempotent on the server). */
  ensureDefaultSession(): Promise<string>;
  setTimer(run: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
  /** Pause before trying again after a temporary refusal (rate limit, server error). */
  retryMs?: number;
}

/** Refusals that will not change by sending again: the user has to act. */
const FINAL: ReadonlySet<ErrorCode> = new Set(['BAD_REQUEST', 'PAYLOAD_TOO_LARGE', 'NOT_FOUND', 'FORBIDDEN']);

/**
 * Sends outbox items in order, one at a time, and removes each only once the
 * gateway acknowledged it. A lost socket leaves the item in place; the next
 * flush (on reconnect) sends it again with the same clientId, which the
 * gateway dedupes, so each message is delivered exactly once.
 */
export class OutboxSender {
  private running = false;
  private again = false;
  private stopped = false;
  private timer: unknown = null;

  constructor(private readonly deps: OutboxSenderDeps) {}

  /** Starts a pass (or queues one after the current pass). */
  flush(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return Promise.resolve();
    }
    return this.run();
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer();
  }

  private async run(): Promise<void> {
    this.running = true;
    this.cancelTimer();
    try {
      do {
        this.again = false;
        const carryOn = await this.pass();
        if (!carryOn) break;
      } while (this.again && !this.stopped);
    } finally {
      this.running = false;
    }
  }

  /** @returns false when the pass stopped early and a later flush must resume. */
  private async pass(): Promise<boolean> {
    for (const item of this.deps.outbox.pending()) {
      if (this.stopped) return false;
      const outcome = await this.sendOne(item);
      if (outcome === 'stop') return false;
    }
    return true;
  }

  private async sendOne(queued: OutboxItem): Promise<'next' | 'stop'> {
    const { outbox } = this.deps;
    // Read it afresh: an earlier send may have resolved its session, and another
    // tab or a `message` event may have settled it meanwhile.
    const current = (): OutboxItem | undefined => outbox.pending().find((i) => i.clientId === queued.clientId);
    try {
      if (current()?.sessionId === null) outbox.assignDefaultSession(await this.deps.ensureDefaultSession());
      const item = current();
      if (!item || item.sessionId === null) return 'next';
      await this.deps.send({ sessionId: item.sessionId, clientId: item.clientId, text: item.text });
      outbox.remove(item.clientId);
      return 'next';
    } catch (error) {
      const info = describeError(error);
      if (info.code !== null && FINAL.has(info.code)) {
        outbox.update(queued.clientId, { error: { code: info.code, message: info.message } });
        return 'next';
      }
      // Socket lost (the reconnect flushes again) or a temporary refusal: try later.
      this.schedule();
      return 'stop';
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.cancelTimer();
    this.timer = this.deps.setTimer(() => {
      this.timer = null;
      void this.flush();
    }, this.deps.retryMs ?? 3_000);
  }

  private cancelTimer(): void {
    if (this.timer !== null) this.deps.clearTimer(this.timer);
    this.timer = null;
  }
}
