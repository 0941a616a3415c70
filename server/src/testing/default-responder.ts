/**
 * The wire servers' default responder (see wire-types.ts): turns a
 * protocol-neutral view of the request into a scripted reply, so a gateway in
 * another process can be steered by what the user types.
 */
import type { ScriptedReply, ScriptedUsage } from './wire-types';

/** What the default responder needs to know about a request, whatever its protocol. */
export interface ConversationView {
  system: string;
  /** Conversation messages (system prompts excluded). */
  messageCount: number;
  /** Text of the last user message ('' when none). */
  lastUserText: string;
  /** Set when the last message carries tool results: the tools' names and contents. */
  toolResults: Array<{ name: string; content: string }> | null;
}

export interface DefaultResponderOptions {
  wordDelayMs: number;
}

const TOOL_COMMAND = /\/tool\s+([A-Za-z0-9_.-]+)\s*([\s\S]*)$/;

/** Splits text into streamable words, each keeping its trailing whitespace. */
export function splitWords(text: string): string[] {
  return text.split(/(?<=\s)(?=\S)/).filter((piece) => piece.length > 0);
}

/** Splits `text` into about `parts` non-empty fragments (for input_json_delta / arguments deltas). */
export function splitFragments(text: string, parts: number): string[] {
  if (text.length === 0) return [''];
  const size = Math.max(1, Math.ceil(text.length / parts));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** Rough, cheap token estimate for default usage figures. */
export function estimateTokens(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 4));
}

export function createDefaultResponder(opts: DefaultResponderOptions): (view: ConversationView) => ScriptedReply {
  // Texts whose `/fail-once` failure was already served: the retry succeeds.
  const failedOnce = new Set<string>();

  return (view) => {
    if (view.system.includes('Summarize')) {
      return { kind: 'text', text: `Summary: ${view.messageCount} messages` };
    }
    if (view.toolResults) {
      const text = view.toolResults.map((r) => `Tool ${r.name} returned: ${r.content}`).join('\n');
      return { kind: 'text', text, chunkDelayMs: opts.wordDelayMs };
    }
    const text = view.lastUserText;
    const tool = TOOL_COMMAND.exec(text);
    if (tool) {
      return { kind: 'tool_use', calls: [{ name: tool[1] ?? 'unknown', input: parseToolInput(tool[2] ?? '') }] };
    }
    const echo = `Echo: ${text}`;
    if (text.includes('/fail-once') && !failedOnce.has(text)) {
      failedOnce.add(text);
      const words = splitWords(echo);
      return { kind: 'midstream_error', textBefore: words.slice(0, Math.max(1, Math.floor(words.length / 2))).join('') };
    }
    if (text.includes('/hang')) {
      return { kind: 'hang', textBefore: splitWords(echo).slice(0, 3).join('') };
    }
    if (text.includes('/slow')) return { kind: 'text', text: echo, chunkDelayMs: 40 };
    return { kind: 'text', text: echo, chunkDelayMs: opts.wordDelayMs };
  };
}

function parseToolInput(raw: string): unknown {
  const trimmed = raw.trim();
  if (trimmed.length === 0) return {};
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return {};
  }
}

/** Usage figures for a reply: scripted ones win, the rest are cheap estimates. */
export function replyUsage(
  scripted: ScriptedUsage | undefined,
  requestBytes: number,
  outputPieces: number,
): Required<ScriptedUsage> {
  return {
    input: scripted?.input ?? estimateTokens(requestBytes),
    output: scripted?.output ?? Math.max(1, outputPieces),
    cacheRead: scripted?.cacheRead ?? 0,
    cacheWrite: scripted?.cacheWrite ?? 0,
  };
}
