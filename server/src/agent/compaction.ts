/**
 * Context compaction: when earlier turns no longer fit the token budget, the
 * oldest ones are summarized by the model and the summary stands in for them
 * from then on. Nothing is deleted: the summary records the newest message it
 * covers (`uptoSeq`) and later turns read only what comes after.
 */
import type { Message } from '@autoclaw/shared';
import type { Turn } from './history';

/** Longest piece of one message in a summary transcript. */
const TRANSCRIPT_ITEM_CHARS = 4_000;

/**
 * How many of the oldest turns to cover so that the kept (newest) turns fit
 * `keepTokens`, moved to a cut that leaves no message of a kept turn, a
 * queued message or the running turn behind it. `window` is every listed
 * message; `covered(i)` tells whether window[i] belongs to the first n turns.
 */
export function chooseCut(
  turns: readonly Turn[],
  windowSize: number,
  keepTokens: number,
): { coverCount: number; cutIndex: number } | null {
  let keepFrom = turns.length;
  let kept = 0;
  while (keepFrom > 0 && kept + (turns[keepFrom - 1] as Turn).tokens <= keepTokens) {
    keepFrom -= 1;
    kept += (turns[keepFrom] as Turn).tokens;
  }
  for (let cover = keepFrom; cover > 0; cover--) {
    // Valid when the covered turns' messages are exactly the window's first messages.
    let count = 0;
    let maxIndex = -1;
    for (let t = 0; t < cover; t++) {
      const turn = turns[t] as Turn;
      count += (turn.user ? 1 : 0) + turn.assistants.length;
      maxIndex = Math.max(maxIndex, turn.lastIndex);
    }
    if (maxIndex >= 0 && count === maxIndex + 1 && maxIndex < windowSize) return { coverCount: cover, cutIndex: maxIndex };
  }
  return null;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)} […]`;
}

function assistantLines(message: Message): string[] {
  const lines: string[] = [];
  if (message.text) lines.push(`Assistant: ${clip(message.text, TRANSCRIPT_ITEM_CHARS)}`);
  for (const call of message.toolCalls) {
    lines.push(`Assistant used tool ${call.name} with ${clip(call.input, 500)} → ${call.status}: ${clip(call.result ?? '', 1_000)}`);
  }
  return lines;
}

/** A plain-text transcript of the covered turns (with the previous summary first), at most `maxChars`. */
export function transcript(previousSummary: string | null, turns: readonly Turn[], maxChars: number): string {
  const lines: string[] = [];
  for (const turn of turns) {
    if (turn.user) lines.push(`User: ${clip(turn.user.text, TRANSCRIPT_ITEM_CHARS)}`);
    for (const assistant of turn.assistants) lines.push(...assistantLines(assistant));
  }
  let body = lines.join('\n\n');
  // Over the limit: keep the newest part; the previous summary already covers what came before.
  if (body.length > maxChars) body = `[…]\n${body.slice(body.length - maxChars)}`;
  const head = previousSummary ? `Summary of what came before:\n${previousSummary}\n\nConversation since then:\n` : 'Conversation:\n';
  return head + body;
}
