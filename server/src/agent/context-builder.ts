/**
 * Builds what the provider sees for a turn: the system prompt and the
 * conversation within a token budget. Earlier turns are read once per turn
 * (from the latest summary on); when they outgrow the budget the oldest are
 * compacted into a stored summary (see compaction.ts); between turns the
 * history is cached (history-cache.ts) so a turn reads only what changed,
 * and its settled front is kept grouped and converted (settled-past.ts), so
 * a turn groups and converts only the open tail.
 * The running turn's own
 * messages come from the turn runner's memory, so the tool loop's iterations
 * never re-read the history.
 */
import { AppError, type Message } from '@autoclaw/shared';
import type { Store } from '../store/types';
import { chooseCut, transcript } from './compaction';
import { estimateTokens, groupTurns, MessageMemo, messageTokens, pushAssistant, pushContent, pushUser, userMessageRan, type Turn } from './history';
import { HistoryCache, settled } from './history-cache';
import { appendTurns, SUMMARY_LEAD } from './settled-past';
import type { ProviderMessage } from './providers/types';
import { buildSystemPrompt } from './system-prompt';
import type { ToolSpec } from '@autoclaw/shared';
import type { ToolCatalog } from '../skills';
import type { Logger } from './logger';

export interface ContextBuilderDeps {
  store: Store;
  tools: ToolCatalog;
  now: () => number;
  budgetTokens: number;
  logger: Logger;
}

/** Asks the model for a summary of `transcript` (a provider call whose usage the caller records). */
export type Summarize = (transcript: string) => Promise<string>;

export interface PastContext {
  system: string;
  /** Earlier turns (a summary first when there is one), ready to be followed by the running turn. */
  past: ProviderMessage[];
  /** Estimated tokens of system + past. */
  tokens: number;
  /** Set when this call stored a new summary. */
  compacted: { uptoSeq: number; coveredMessages: number } | null;
}

/** Room kept for the answer's own prompt overhead (tool specs, formatting). */
const RESERVE_TOKENS = 1_000;
const MEMORY_HITS = 5;
export const OMITTED_LEAD = '(The earlier part of this conversation is not shown.)';

function summaryMessage(text: string): ProviderMessage[] {
  const past: ProviderMessage[] = [];
  pushUser(past, SUMMARY_LEAD + text);
  return past;
}

/** The conversation must start with the user: a past that starts with an answer says that something is left out. */
function withLead(past: ProviderMessage[]): ProviderMessage[] {
  if (past[0]?.role === 'assistant') past.unshift({ role: 'user', content: [{ type: 'text', text: OMITTED_LEAD }] });
  return past;
}

export class ContextBuilder {
  readonly #deps: ContextBuilderDeps;
  readonly #cache: HistoryCache;
  readonly #memo = new MessageMemo();

  /** Size of the tool specs, measured again when the set of tools changes. */
  #toolTokens: { specs: ToolSpec[]; tokens: number } | undefined;

  constructor(deps: ContextBuilderDeps) {
    this.#deps = deps;
    this.#cache = new HistoryCache(deps.store);
  }

  /** The caller just committed the last change of these messages (a turn's end): no need to read them again. */
  settled(sessionId: string, messages: readonly Message[]): void {
    this.#cache.settle(sessionId, messages);
  }

  /** Settled history of the session changed (retry, deletion): read it again next time. */
  invalidate(sessionId: string): void {
    this.#cache.invalidate(sessionId);
  }

  /** Sessions whose history is cached (for tests and diagnostics). */
  get cachedSessions(): number {
    return this.#cache.size;
  }

  /**
   * The system prompt and earlier turns for the turn of `user`. `currentIds`
   * are the running turn's own messages (left out here); `currentTokens`
   * their estimated size.
   */
  async prepare(input: {
    sessionId: string;
    user: Message;
    currentIds: ReadonlySet<string>;
    currentTokens: number;
    summarize: Summarize | null;
  }): Promise<PastContext> {
    const { store, tools, now, budgetTokens, logger } = this.#deps;
    const system = buildSystemPrompt({ nowMs: now(), tools, memories: this.#memories(input.user.text) });
    const specs = tools.specs();
    if (this.#toolTokens?.specs !== specs) this.#toolTokens = { specs, tokens: estimateTokens(JSON.stringify(specs).length) };
    const systemTokens = estimateTokens(system.length) + this.#toolTokens.tokens;

    const { summary, messages: window, openFrom, lookupTurn, past: settledPast } = this.#cache.window(input.sessionId);
    // The settled front is grouped and converted once (settled-past.ts); only the open tail is, every turn.
    // A user message already settled is not the running turn's (a caller's own call): group it all then.
    const front = settled(input.user) ? null : settledPast;
    front?.extend(window, openFrom, lookupTurn, this.#memo);
    const tail: Turn[] = [];
    const current = (m: Message) => input.currentIds.has(m.id);
    for (const turn of groupTurns(window, lookupTurn, (m) => this.#memo.tokens(m), front?.upto ?? 0)) {
      if (turn.user && (turn.user.id === input.user.id || !userMessageRan(turn.user))) continue;
      // Only a turn that holds one of the running turn's messages is copied (they are never in the settled front).
      tail.push(input.currentIds.size > 0 && turn.assistants.some(current) ? { ...turn, assistants: turn.assistants.filter((m) => !current(m)) } : turn);
    }
    const summaryText = summary?.text ?? null;
    const summaryTokens = summaryText ? estimateTokens(summaryText.length) + 10 : 0;
    let pastTokens = summaryTokens + (front?.tokens ?? 0) + tail.reduce((n, t) => n + t.tokens, 0);

    const room = budgetTokens - systemTokens - input.currentTokens - RESERVE_TOKENS;
    if (pastTokens <= room || (tail.length === 0 && (front?.turns.length ?? 0) === 0)) {
      // Fits (the usual case): the settled front's messages as they are, then the tail's.
      const past = appendTurns(front ? front.messages() : summaryText ? summaryMessage(summaryText) : [], tail, this.#memo);
      return { system, past: withLead(past), tokens: systemTokens + pastTokens, compacted: null };
    }

    const turns = front ? front.turns.concat(tail) : tail;
    let kept = turns;
    let compactedSummary = summaryText;
    let compacted: PastContext['compacted'] = null;
    const keepTokens = Math.max(0, Math.floor(room / 2));
    const cut = chooseCut(turns, window.length, keepTokens);
    if (cut && input.summarize) {
      const covered = turns.slice(0, cut.coverCount);
      const text = (await input.summarize(transcript(summaryText, covered, budgetTokens * 4))).trim();
      const last = window[cut.cutIndex] as Message;
      const uptoSeq = store.messageSeq(last.id);
      if (text.length > 0 && uptoSeq !== null) {
        const saved = store.saveSummary({ sessionId: input.sessionId, uptoSeq, text });
        this.#cache.compacted(input.sessionId, saved, cut.cutIndex + 1);
        compactedSummary = text;
        kept = turns.slice(cut.coverCount);
        compacted = { uptoSeq, coveredMessages: cut.cutIndex + 1 };
        logger.info({ sessionId: input.sessionId, uptoSeq, coveredMessages: cut.cutIndex + 1 }, 'context compacted');
      }
    }
    pastTokens = (compactedSummary ? estimateTokens(compactedSummary.length) + 10 : 0) + kept.reduce((n, t) => n + t.tokens, 0);
    // Still too big (no valid cut, or the summary call failed): leave the oldest turns out of this request only.
    let dropped = 0;
    while (pastTokens > room && dropped < kept.length) pastTokens -= (kept[dropped++] as Turn).tokens;
    const past = appendTurns(compactedSummary ? summaryMessage(compactedSummary) : [], kept.slice(dropped), this.#memo);
    return { system, past: withLead(past), tokens: systemTokens + pastTokens, compacted };
  }

  #memories(text: string) {
    try {
      return this.#deps.store.searchMemories(text.slice(0, 1_000), MEMORY_HITS);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      this.#deps.logger.warn({ code: err.code }, 'memory search failed; continuing without memories');
      return [];
    }
  }
}

/**
 * The full conversation for one provider call: earlier turns, the user
 * message of the running turn, then its assistant messages so far. An
 * assistant message that is being continued (last, with text and no tool
 * calls) ends the list, so the provider continues its text.
 */
export function assemble(past: PastContext, user: Message, assistants: readonly Message[]): ProviderMessage[] {
  // Copy only the outer array: `past` is reused by every iteration (and its messages by every turn; nothing changes them).
  const out: ProviderMessage[] = past.past.slice();
  pushContent(out, 'user', [{ type: 'text', text: user.text }]);
  for (const assistant of assistants) pushAssistant(out, assistant);
  return out;
}

/** Estimated tokens of the running turn's messages. */
export function currentTurnTokens(user: Message, assistants: readonly Message[]): number {
  return assistants.reduce((n, m) => n + messageTokens(m), messageTokens(user));
}
