/**
 * Each session's messages since its latest summary, kept between turns so a
 * turn reads only what is new: messages added since the last read, and the
 * few that were still changing then (a running turn's messages). Whatever
 * rewrites settled history (retry, deleting a message or a session) must call
 * `invalidate`. Bounded: least recently used sessions are forgotten.
 */
import type { Message } from '@autoclaw/shared';
import type { Store, SummaryRecord } from '../store/types';

interface Entry {
  summary: SummaryRecord | null;
  messages: Message[];
  /** seq of the newest message read (or the summary's uptoSeq). */
  lastSeq: number;
  /** Assistant message ids of finished turns (see history.ts `groupTurns`). */
  turns: Map<string, string[]>;
}

export interface SessionWindow {
  summary: SummaryRecord | null;
  /** Messages after the summary, in the store's order. Do not mutate. */
  messages: readonly Message[];
  /** Assistant message ids of a turn (memoized once the turn finished). */
  lookupTurn: (userId: string) => string[];
}

const OPEN_TOOL = new Set(['pending', 'running', 'awaiting_approval']);

/** Will this message change without a retry, a deletion or a compaction? */
export function settled(message: Message): boolean {
  if (message.role === 'user') return message.status !== 'queued' && message.status !== 'running';
  return message.status !== 'streaming' && !message.toolCalls.some((call) => OPEN_TOOL.has(call.status));
}

export class HistoryCache {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly store: Store,
    private readonly maxSessions = 32,
  ) {}

  window(sessionId: string): SessionWindow {
    let entry = this.#entries.get(sessionId);
    if (entry && !this.#refresh(sessionId, entry)) entry = undefined;
    if (!entry) entry = this.#load(sessionId);
    // Most recently used last; the oldest goes when over the limit.
    this.#entries.delete(sessionId);
    this.#entries.set(sessionId, entry);
    if (this.#entries.size > this.maxSessions) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    const current = entry;
    return {
      summary: current.summary,
      messages: current.messages,
      lookupTurn: (userId) => {
        const known = current.turns.get(userId);
        if (known) return known;
        const ids = this.store.turnMessages(userId).map((m) => m.id);
        const user = current.messages.find((m) => m.id === userId);
        if (user && settled(user)) current.turns.set(userId, ids);
        return ids;
      },
    };
  }

  /** After a compaction: the summary now covers the first `covered` messages of the window. */
  compacted(sessionId: string, summary: SummaryRecord, covered: number): void {
    const entry = this.#entries.get(sessionId);
    if (!entry) return;
    entry.summary = summary;
    entry.messages = entry.messages.slice(covered);
    entry.lastSeq = Math.max(entry.lastSeq, summary.uptoSeq);
  }

  invalidate(sessionId: string): void {
    this.#entries.delete(sessionId);
  }

  get size(): number {
    return this.#entries.size;
  }

  #load(sessionId: string): Entry {
    const summary = this.store.latestSummary(sessionId);
    const messages = this.store.listMessages(sessionId, summary ? { afterSeq: summary.uptoSeq } : undefined);
    const last = messages[messages.length - 1];
    const lastSeq = (last ? this.store.messageSeq(last.id) : null) ?? summary?.uptoSeq ?? 0;
    return { summary, messages, lastSeq, turns: new Map() };
  }

  /** Brings an entry up to date; false when it must be read again from scratch. */
  #refresh(sessionId: string, entry: Entry): boolean {
    for (let i = 0; i < entry.messages.length; i++) {
      const message = entry.messages[i] as Message;
      if (settled(message)) continue;
      const fresh = this.store.getMessage(message.id);
      if (!fresh) return false;
      entry.messages[i] = fresh;
    }
    const added = this.store.listMessages(sessionId, { afterSeq: entry.lastSeq });
    const last = added[added.length - 1];
    if (last) {
      const seq = this.store.messageSeq(last.id);
      if (seq === null) return false;
      for (const message of added) entry.messages.push(message);
      entry.lastSeq = seq;
    }
    return true;
  }
}
