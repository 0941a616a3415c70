/**
 * Sends a running channel's queued rows: due rows in order, one lane per
 * conversation, each send with a time limit. A platform's rate limit
 * (AppError RATE_LIMITED with `retryAfterMs`, from its 429 and headers) puts
 * the row back until then; a final refusal (bad request, forbidden, not
 * found) marks it failed; anything else is retried with backoff.
 */
import { basename, join } from 'node:path';
import { AppError } from '@autoclaw/shared';
import type { Logger } from '../agent';
import type { OutboundRow, Store } from '../store';
import { textHash } from './client-id';
import { describe } from './isolation';
import type { Lanes } from './lanes';
import type { OutboundPayload } from './outbox';
import { splitText } from './split-text';
import type { ChannelAdapter, ConversationRef } from './types';

/** Every platform call of a delivery ends by then. */
export const SEND_TIMEOUT_MS = 30_000;
const MAX_ATTEMPTS = 10;
const BATCH = 20;
const FINAL_CODES = new Set(['BAD_REQUEST', 'FORBIDDEN', 'NOT_FOUND', 'PAYLOAD_TOO_LARGE', 'UNAUTHORIZED']);

export interface PartSync {
  store: Pick<Store, 'sentParts' | 'recordSentPart'>;
  adapter: ChannelAdapter;
  channel: string;
  signal: AbortSignal;
}

/**
 * Makes the platform show `text` as the messages of `key` (an answer's id):
 * edits the parts sent before whose text differs, sends the missing ones.
 * What was sent is recorded part by part, so a retry or a restart never
 * sends a part twice.
 */
export async function syncParts(sync: PartSync, key: string, route: ConversationRef, text: string, replyTo?: string): Promise<void> {
  const { store, adapter, channel } = sync;
  const pieces = splitText(text, adapter.limits.maxTextChars);
  const sent = new Map(store.sentParts(key).map((p) => [p.part, p]));
  for (const [part, piece] of pieces.entries()) {
    if (piece.trim().length === 0) continue;
    const hash = textHash(piece);
    const before = sent.get(part);
    const signal = limited(sync.signal);
    if (before) {
      if (before.textHash === hash || !adapter.editText) continue;
      await adapter.editText(route, before.platformId, piece, signal);
      store.recordSentPart(key, channel, { part, platformId: before.platformId, textHash: hash });
    } else {
      const { id } = await adapter.sendText(route, { text: piece, ...(part === 0 && replyTo ? { replyTo } : {}) }, signal);
      store.recordSentPart(key, channel, { part, platformId: id, textHash: hash });
    }
  }
}

export function limited(signal: AbortSignal): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(SEND_TIMEOUT_MS)]);
}

/**
 * The time limit of a delivery, kept even by an SDK that ignores abort
 * signals: past it the lane moves on (TIMEOUT) and the call is left behind.
 */
export function withDeadline<T>(work: Promise<T>, ms = SEND_TIMEOUT_MS + 1_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AppError('TIMEOUT', `the platform did not answer within ${Math.round(ms / 1000)} s`)), ms);
    timer.unref();
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** What to do with a row after a failed send. */
export function retryPlan(err: unknown, attempts: number, now: number): { status: 'pending' | 'failed'; nextAt: number } {
  if (AppError.is(err)) {
    const after = err.details?.['retryAfterMs'];
    if (err.code === 'RATE_LIMITED' && typeof after === 'number' && attempts < MAX_ATTEMPTS * 3) {
      return { status: 'pending', nextAt: now + Math.max(0, after) };
    }
    if (FINAL_CODES.has(err.code)) return { status: 'failed', nextAt: now };
  }
  if (attempts >= MAX_ATTEMPTS) return { status: 'failed', nextAt: now };
  return { status: 'pending', nextAt: now + Math.min(300_000, 1_000 * 2 ** (attempts - 1)) };
}

export interface OutboxWorkerDeps {
  channel: string;
  store: Store;
  adapter: ChannelAdapter;
  lanes: Lanes;
  workspaceDir: string;
  now: () => number;
  logger: Logger;
  /** Aborted when the channel's run ends. */
  signal: AbortSignal;
  /** Runs a platform call in the channel's isolation context. */
  within<T>(fn: () => Promise<T>): Promise<T>;
  redact(text: string): string;
}

export class OutboxWorker {
  readonly #deps: OutboxWorkerDeps;
  readonly #inflight = new Set<number>();
  #timer: NodeJS.Timeout | null = null;
  #scheduled = false;
  #stopped = false;

  constructor(deps: OutboxWorkerDeps) {
    this.#deps = deps;
  }

  /** Looks for due rows soon (after the current event-loop turn). */
  kick(): void {
    if (this.#stopped || this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#pass();
    });
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #pass(): void {
    if (this.#stopped || this.#deps.signal.aborted) return;
    const { store, channel, now } = this.#deps;
    const rows = store.dueOutbound(channel, now(), BATCH + this.#inflight.size).filter((r) => !this.#inflight.has(r.id));
    for (const row of rows) {
      this.#inflight.add(row.id);
      void this.#deps.lanes
        .run(row.sessionId ?? `route:${row.key}`, () => this.#process(row))
        .finally(() => {
          this.#inflight.delete(row.id);
          this.kick();
        });
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const next = store.nextOutboundAt(channel);
    if (next !== null && this.#inflight.size === 0) {
      this.#timer = setTimeout(() => this.#pass(), Math.max(10, next - now()));
      this.#timer.unref();
    }
  }

  async #process(row: OutboundRow): Promise<void> {
    const { store, now, logger, channel } = this.#deps;
    if (this.#stopped || this.#deps.signal.aborted) return;
    const attempts = row.attempts + 1;
    try {
      await withDeadline(this.#deps.within(() => this.#deliver(JSON.parse(row.payload) as OutboundPayload, row.key)));
      store.markOutbound(row.id, { status: 'sent', attempts, nextAt: now(), lastError: null });
    } catch (err) {
      // The run ended under it: the row stays as it was for the next run.
      if (this.#deps.signal.aborted) return;
      const plan = retryPlan(err, attempts, now());
      const lastError = this.#deps.redact(describe(err)).slice(0, 500);
      store.markOutbound(row.id, { status: plan.status, attempts, nextAt: plan.nextAt, lastError });
      const level = plan.status === 'failed' ? 'error' : 'warn';
      logger[level]({ channel, key: row.key, attempts, err: lastError }, plan.status === 'failed' ? 'gave up a channel send' : 'channel send failed; will retry');
    }
  }

  async #deliver(payload: OutboundPayload, key: string): Promise<void> {
    const { adapter, store, channel } = this.#deps;
    const sync: PartSync = { store, adapter, channel, signal: this.#deps.signal };
    switch (payload.kind) {
      case 'text':
        return syncParts(sync, key, payload.route, payload.text, payload.replyTo);
      case 'final':
        return syncParts(sync, payload.messageId, payload.route, payload.text, payload.replyTo);
      case 'approval': {
        const { prompt } = payload;
        if (adapter.sendApproval) {
          if (store.sentParts(key).length > 0) return;
          const { id } = await adapter.sendApproval(payload.route, prompt, limited(this.#deps.signal));
          store.recordSentPart(key, channel, { part: 0, platformId: id, textHash: textHash(prompt.toolCallId) });
          return;
        }
        const text = `${prompt.title}\n${prompt.detail}\n\nReply "approve ${prompt.code}" or "deny ${prompt.code}".`;
        return syncParts(sync, key, payload.route, text);
      }
      case 'file': {
        const absolute = join(this.#deps.workspaceDir, payload.path);
        if (!adapter.sendFile) {
          return syncParts(sync, key, payload.route, `I saved ${payload.path} in the workspace (this channel cannot carry files).`);
        }
        if (store.sentParts(key).length > 0) return;
        const { id } = await adapter.sendFile(payload.route, { path: absolute, name: payload.name || basename(absolute), mimeType: payload.mimeType }, limited(this.#deps.signal));
        store.recordSentPart(key, channel, { part: 0, platformId: id, textHash: textHash(payload.path) });
        return;
      }
    }
  }
}
