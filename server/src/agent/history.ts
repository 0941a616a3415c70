/**
 * Turns stored messages into provider messages. The store lists messages in
 * insertion order, so a message sent while another turn's tool loop ran sits
 * between that turn's assistant messages; `groupTurns` puts every assistant
 * message back with the user message of its turn. Pure functions, no I/O.
 */
import type { Message, ToolCall } from '@autoclaw/shared';
import type { ProviderContent, ProviderMessage } from './providers/types';

/** A user message with the assistant messages of its turn, in order. */
export interface Turn {
  /** null for assistant messages whose user message lies before the window (kept, never dropped). */
  user: Message | null;
  assistants: Message[];
  /** Position of the turn's last message in the listed window (for compaction cuts). */
  lastIndex: number;
  /** Position of the turn's first message in the listed window. */
  firstIndex: number;
  tokens: number;
}

/** Result text given to the model for a tool call that never finished. */
export const UNFINISHED_TOOL_RESULT = 'The tool call did not finish (interrupted).';

const MESSAGE_OVERHEAD_TOKENS = 6;

/** ≈ 4 characters per token plus a small overhead per message and block. */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

export function messageTokens(message: Message): number {
  let chars = message.text.length;
  for (const call of message.toolCalls) chars += call.name.length + call.input.length + (call.result?.length ?? 40) + 40;
  return estimateTokens(chars) + MESSAGE_OVERHEAD_TOKENS;
}

/**
 * Whether the assistant messages right after a user message may not be all of
 * its turn: the turn ended in a tool round (or has none yet), so more of it
 * may come later in the listing. Only then must the caller look the turn up.
 */
export function turnMayContinue(directAssistants: readonly Message[]): boolean {
  const last = directAssistants[directAssistants.length - 1];
  return !last || last.toolCalls.length > 0;
}

/**
 * Groups a window of messages (insertion order) into turns ordered by their
 * user message. `lookupTurn(userId)` is asked only for turns that may continue
 * after another user message (see `turnMayContinue`), and returns the ids of
 * the turn's assistant messages.
 */
export function groupTurns(messages: readonly Message[], lookupTurn: (userId: string) => string[]): Turn[] {
  const owner = new Map<string, string>();
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as Message;
    if (m.role !== 'user') continue;
    const direct: Message[] = [];
    for (let j = i + 1; j < messages.length && (messages[j] as Message).role === 'assistant'; j++) direct.push(messages[j] as Message);
    if (turnMayContinue(direct)) for (const id of lookupTurn(m.id)) owner.set(id, m.id);
  }
  const turns: Turn[] = [];
  const byUser = new Map<string, Turn>();
  let lastUser: Turn | null = null;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as Message;
    const tokens = messageTokens(m);
    if (m.role === 'user') {
      lastUser = { user: m, assistants: [], firstIndex: i, lastIndex: i, tokens };
      byUser.set(m.id, lastUser);
      turns.push(lastUser);
      continue;
    }
    const ownerId = owner.get(m.id);
    let turn: Turn | null | undefined = ownerId ? byUser.get(ownerId) : lastUser;
    if (!turn) {
      // Its user message is older than the window: keep the text as a turn of its own.
      turn = { user: null, assistants: [], firstIndex: i, lastIndex: i, tokens: 0 };
      turns.push(turn);
      if (!ownerId) lastUser = turn;
    }
    turn.assistants.push(m);
    turn.lastIndex = Math.max(turn.lastIndex, i);
    turn.tokens += tokens;
  }
  return turns;
}

function parseInput(json: string): unknown {
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return {};
  }
}

function toolResult(call: ToolCall): ProviderContent {
  const finished = call.status === 'done' || call.status === 'error' || call.status === 'denied';
  return {
    type: 'tool_result',
    toolUseId: call.id,
    content: finished && call.result !== null ? call.result : UNFINISHED_TOOL_RESULT,
    isError: call.status !== 'done',
  };
}

/** Appends content to the conversation, merging with the last message when the role repeats. */
export function pushContent(out: ProviderMessage[], role: ProviderMessage['role'], content: ProviderContent[]): void {
  if (content.length === 0) return;
  const last = out[out.length - 1];
  if (last && last.role === role) {
    // A tool_result must lead its user message, so results go before text already there.
    if (role === 'user' && content[0]?.type === 'tool_result') last.content = [...content, ...last.content];
    else last.content = last.content.concat(content);
    return;
  }
  out.push({ role, content });
}

/** An assistant message as the provider sees it: its text, its tool uses, then their results. */
export function pushAssistant(out: ProviderMessage[], message: Message): void {
  const content: ProviderContent[] = [];
  if (message.text.length > 0) content.push({ type: 'text', text: message.text });
  for (const call of message.toolCalls) content.push({ type: 'tool_use', id: call.id, name: call.name, input: parseInput(call.input) });
  pushContent(out, 'assistant', content);
  if (message.toolCalls.length > 0) pushContent(out, 'user', message.toolCalls.map(toolResult));
}

export function pushUser(out: ProviderMessage[], text: string): void {
  if (text.length > 0) pushContent(out, 'user', [{ type: 'text', text }]);
}

/** Whether a user message belongs in the model's view of the past (it ran, or is running now). */
export function userMessageRan(message: Message): boolean {
  return message.status !== 'queued';
}

export function pushTurn(out: ProviderMessage[], turn: Turn): void {
  if (turn.user) pushUser(out, turn.user.text);
  for (const assistant of turn.assistants) pushAssistant(out, assistant);
}
