/**
 * Each session's messages since its latest summary, kept between turns so a
 * turn reads only what is new: messages added since the last read, and the
 * few that were still changing then (a running turn's messages). Whatever
 * rewrites settled history (retry, deleting a message or a session) must call
 * `invalidate`. Bounded: least recently used sessions are forgotten.
 */
import type { Message } from '@autoclaw/shared';
import type { Store, SummaryRecord } from '../store/types';
import type { LookupTurn } from './history';
import { SettledPast } from './settled-past';

interface Entry {
  summary: SummaryRecord | null;
  messages: Message[];
  /** seq of the newest message read (or the summary's uptoSeq). */
  lastSeq: number;
  /** Messages before this index are settled: a refresh looks only from here on. */
  openFrom: number;
  /** Assistant message ids of finished turns (see history.ts `groupTurns`). */
  turns: Map<string, string[]>;
  /** The window's settled front, grouped and converted (see settled-past.ts); goes with the window, cut by a compaction. */
  past: SettledPast;
}

export interface SessionWindow {
  summary: SummaryRecord | null;
  /** Messages after the summary, in the store's order. Do not mutate. */
  messages: readonly Message[];
  /** Messages before this index are settled (see `settled`). */
  openFrom: number;
  /** Assistant message ids of a turn (memoized once the turn finished). */
  lookupTurn: LookupTurn;
  /** The settled front of `messages`, grouped into turns and converted, kept between turns. */
  past: SettledPast;
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
      openFrom: current.openFrom,
      past: current.past,
      lookupTurn: (userId, user = current.messages.find((m) => m.id === userId)) => {
        const known = current.turns.get(userId);
        if (known) return known;
        const ids = this.store.turnMessages(userId).map((m) => m.id);
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
    entry.past = new SettledPast(summary);
    entry.messages = entry.messages.slice(covered);
    entry.openFrom = Math.max(0, entry.openFrom - covered);
    entry.lastSeq = Math.max(entry.lastSeq, summary.uptoSeq);
  }

  /**
   * Messages whose last change the caller just committed (a turn's end): they
   * replace their open copies in the window, so the next turn does not read
   * them again. Only settled ones: an open message is read again anyway.
   */
  settle(sessionId: string, messages: readonly Message[]): void {
    const entry = this.#entries.get(sessionId);
    if (!entry) return;
    for (const message of messages) {
      if (!settled(message)) continue;
      for (let i = entry.openFrom; i < entry.messages.length; i++) {
        if ((entry.messages[i] as Message).id === message.id) {
          entry.messages[i] = message;
          break;
        }
      }
    }
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
    const lastSeq = messages[messages.length - 1]?.seq ?? summary?.uptoSeq ?? 0;
    return { summary, messages, lastSeq, openFrom: firstOpen(messages, 0), turns: new Map(), past: new SettledPast(summary) };
  }

  /** Brings an entry up to date; false when it must be read again from scratch. */
  #refresh(sessionId: string, entry: Entry): boolean {
    // Only the open tail is read again, so a turn costs the same at 500 messages as at 5.
    for (let i = entry.openFrom; i < entry.messages.length; i++) {
      const message = entry.messages[i] as Message;
      if (settled(message)) continue;
      const fresh = this.store.getMessage(message.id);
      if (!fresh) return false;
      entry.messages[i] = fresh;
    }
    const added = this.store.listMessages(sessionId, { afterSeq: entry.lastSeq });
    for (const message of added) entry.messages.push(message);
    entry.lastSeq = added[added.length - 1]?.seq ?? entry.lastSeq;
    entry.openFrom = firstOpen(entry.messages, entry.openFrom);
    return true;
  }
}

/** Index of the first message from `from` on that may still change (or the length). */
function firstOpen(messages: readonly Message[], from: number): number {
  let i = from;
  while (i < messages.length && settled(messages[i] as Message)) i++;
  return i;
}
