/**
 * The settled front of a session's window, grouped into turns and converted
 * to provider messages once, then kept between turns (one per history-cache
 * entry). A turn's context then groups and converts only what came after it
 * (the open tail: the running turn, queued messages, the newest turn), so
 * building it costs the same at 800 messages as at 8. The front moves forward
 * only to a user message such that no turn before it owns a message after it
 * (a turn's messages can sit behind later user messages, see history.ts);
 * everything before it is settled, so it never changes without a retry, a
 * deletion or a compaction, which replace the window and this with it.
 * Nothing here is mutated once handed out: the provider messages are shared
 * by every turn's request (the providers and the budget gate memoize by them).
 */
import type { Message } from '@autoclaw/shared';
import type { SummaryRecord } from '../store/types';
import { groupTurns, pushTurn, pushUser, userTurnMayContinue, type LookupTurn, type MessageMemo, type Turn } from './history';
import type { ProviderMessage } from './providers/types';

export const SUMMARY_LEAD = '[Summary of the earlier conversation]\n';

export class SettledPast {
  /** Window messages before this index are grouped into `turns`. */
  #upto = 0;
  readonly #turns: Turn[] = [];
  #tokens = 0;
  /** The summary (if any), then the turns, as the provider sees them. */
  readonly #past: ProviderMessage[] = [];

  constructor(summary: SummaryRecord | null) {
    if (summary) pushUser(this.#past, SUMMARY_LEAD + summary.text);
  }

  /** Where the open tail starts: group the window from here on. */
  get upto(): number {
    return this.#upto;
  }

  /** The settled turns (shared: copy before changing). */
  get turns(): readonly Turn[] {
    return this.#turns;
  }

  /** Estimated tokens of the settled turns (the summary not included). */
  get tokens(): number {
    return this.#tokens;
  }

  /** The summary and the settled turns as provider messages: a new array of the shared (never mutated) messages. */
  messages(): ProviderMessage[] {
    return this.#past.slice();
  }

  /**
   * Moves the front forward over what settled in `window` since the last
   * call: `openFrom` is the first message that may still change.
   */
  extend(window: readonly Message[], openFrom: number, lookupTurn: LookupTurn, memo: MessageMemo): void {
    const from = this.#upto;
    const end = closedEnd(window, from, Math.min(openFrom, window.length), lookupTurn);
    if (end <= from) return;
    const turns = groupTurns(window, lookupTurn, (m) => memo.tokens(m), from, end);
    for (const turn of turns) {
      this.#turns.push(turn);
      this.#tokens += turn.tokens;
    }
    appendTurns(this.#past, turns, memo);
    this.#upto = end;
  }
}

/**
 * The furthest user message at or before `openFrom` (all before it settled)
 * such that every turn starting in [from, it) has all its messages before
 * it; `from` when there is none. (No turn owns a message before its user
 * message: a turn's messages are stored while it runs, after it.)
 */
function closedEnd(window: readonly Message[], from: number, openFrom: number, lookupTurn: LookupTurn): number {
  let end = from;
  /** Highest window index owned by a turn seen so far. */
  let reach = -1;
  let index: Map<string, number> | null = null;
  for (let i = from; i <= openFrom && i < window.length; i++) {
    const m = window[i] as Message;
    if (m.role !== 'user') continue;
    if (i > from && reach < i) end = i;
    if (i === openFrom) break;
    if (!userTurnMayContinue(window, i)) continue;
    // Its turn may have messages further on (see history.ts groupTurns): where are they?
    index ??= indexFrom(window, from);
    for (const id of lookupTurn(m.id, m)) reach = Math.max(reach, index.get(id) ?? -1);
  }
  return end;
}

function indexFrom(window: readonly Message[], from: number): Map<string, number> {
  const index = new Map<string, number>();
  for (let i = from; i < window.length; i++) index.set((window[i] as Message).id, i);
  return index;
}

/** Appends turns to `past` (an array of shared messages, never changed: see history.ts pushContent). */
export function appendTurns(past: ProviderMessage[], turns: readonly Turn[], memo: MessageMemo): ProviderMessage[] {
  for (const turn of turns) pushTurn(past, turn, memo);
  return past;
}
