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
  const calls = message.toolCalls;
  for (let i = 0; i < calls.length; i++) {
    const call = calls[i] as ToolCall;
    chars += call.name.length + call.input.length + (call.result?.length ?? 40) + 40;
  }
  return estimateTokens(chars) + MESSAGE_OVERHEAD_TOKENS;
}

/** A message's part of the conversation: its own content, and the results of its tool calls (assistant only). */
interface MessageParts {
  content: ProviderContent[];
  results: ProviderContent[];
}

/**
 * What the context derives from each message (its token estimate, its
 * provider content), kept while the message object is the same. The history
 * cache hands out the same object for a settled message turn after turn, so
 * a turn converts only what is new instead of the whole history again. The
 * arrays handed out are shared: nothing may mutate them (`pushContent`
 * merges into new arrays and messages).
 */
export class MessageMemo {
  readonly #tokens = new WeakMap<Message, number>();
  readonly #parts = new WeakMap<Message, MessageParts>();

  tokens(message: Message): number {
    let tokens = this.#tokens.get(message);
    if (tokens === undefined) {
      tokens = messageTokens(message);
      this.#tokens.set(message, tokens);
    }
    return tokens;
  }

  parts(message: Message): MessageParts {
    let parts = this.#parts.get(message);
    if (parts === undefined) {
      parts = messageParts(message);
      this.#parts.set(message, parts);
    }
    return parts;
  }
}

/**
 * Whether the assistant messages right after a user message may not be all of
 * its turn: the turn ended in a tool round (or has none yet), so more of it
 * may come later in the listing. Only then must the caller look the turn up.
 */
export function turnMayContinue(directAssistants: readonly Message[]): boolean {
  return lastMayContinue(directAssistants[directAssistants.length - 1]);
}

function lastMayContinue(lastDirect: Message | undefined): boolean {
  return !lastDirect || lastDirect.toolCalls.length > 0;
}

/** Asks for the ids of a turn's assistant messages (`user` is the turn's user message, when at hand). */
export type LookupTurn = (userId: string, user?: Message) => string[];

/**
 * Whether the user message at `i` has a turn that may continue after another
 * user message (see `turnMayContinue`): the assistant messages right after
 * it, before `to`, end in a tool round or there are none.
 */
export function userTurnMayContinue(messages: readonly Message[], i: number, to = messages.length): boolean {
  let j = i + 1;
  while (j < to && (messages[j] as Message).role === 'assistant') j++;
  return lastMayContinue(j > i + 1 ? (messages[j - 1] as Message) : undefined);
}

/**
 * Groups a window of messages (insertion order) into turns ordered by their
 * user message. `lookupTurn(userId)` is asked only for turns that may continue
 * after another user message (see `turnMayContinue`), and returns the ids of
 * the turn's assistant messages. With `from`/`to` only that part of the
 * window is grouped (indices stay the window's); `from` must be 0 or the
 * index of a user message whose earlier turns own nothing from `from` on.
 */
export function groupTurns(
  messages: readonly Message[],
  lookupTurn: LookupTurn,
  tokensOf: (message: Message) => number = messageTokens,
  from = 0,
  to = messages.length,
): Turn[] {
  const owner = new Map<string, string>();
  for (let i = from; i < to; i++) {
    const m = messages[i] as Message;
    if (m.role === 'user' && userTurnMayContinue(messages, i, to)) for (const id of lookupTurn(m.id, m)) owner.set(id, m.id);
  }
  const turns: Turn[] = [];
  // Needed only to find an owner; most windows have none (a map of every turn, every turn, is garbage).
  const byUser = owner.size > 0 ? new Map<string, Turn>() : null;
  let lastUser: Turn | null = null;
  for (let i = from; i < to; i++) {
    const m = messages[i] as Message;
    const tokens = tokensOf(m);
    if (m.role === 'user') {
      lastUser = { user: m, assistants: [], firstIndex: i, lastIndex: i, tokens };
      byUser?.set(m.id, lastUser);
      turns.push(lastUser);
      continue;
    }
    const ownerId = owner.get(m.id);
    let turn: Turn | null | undefined = ownerId ? byUser?.get(ownerId) : lastUser;
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

/**
 * Appends content to the conversation, merging with the last message when the
 * role repeats — into a new message: the ones in `out` may be shared (a
 * session's settled past is handed to every turn, see settled-past.ts), so
 * no message or content array is ever changed.
 */
export function pushContent(out: ProviderMessage[], role: ProviderMessage['role'], content: ProviderContent[]): void {
  if (content.length === 0) return;
  const last = out[out.length - 1];
  if (last && last.role === role) {
    // A tool_result must lead its user message, so results go before text already there.
    const merged = role === 'user' && content[0]?.type === 'tool_result' ? [...content, ...last.content] : last.content.concat(content);
    out[out.length - 1] = { role, content: merged };
    return;
  }
  out.push({ role, content });
}

function messageParts(message: Message): MessageParts {
  const content: ProviderContent[] = [];
  if (message.text.length > 0) content.push({ type: 'text', text: message.text });
  if (message.role === 'user') return { content, results: [] };
  for (const call of message.toolCalls) content.push({ type: 'tool_use', id: call.id, name: call.name, input: parseInput(call.input) });
  return { content, results: message.toolCalls.map(toolResult) };
}

/** An assistant message as the provider sees it: its text, its tool uses, then their results. */
export function pushAssistant(out: ProviderMessage[], message: Message, memo?: MessageMemo): void {
  const { content, results } = memo ? memo.parts(message) : messageParts(message);
  pushContent(out, 'assistant', content);
  pushContent(out, 'user', results);
}

export function pushUser(out: ProviderMessage[], text: string): void {
  if (text.length > 0) pushContent(out, 'user', [{ type: 'text', text }]);
}

/** Whether a user message belongs in the model's view of the past (it ran, or is running now). */
export function userMessageRan(message: Message): boolean {
  return message.status !== 'queued';
}

export function pushTurn(out: ProviderMessage[], turn: Turn, memo?: MessageMemo): void {
  if (turn.user) {
    if (memo) pushContent(out, 'user', memo.parts(turn.user).content);
    else pushUser(out, turn.user.text);
  }
  const assistants = turn.assistants;
  for (let i = 0; i < assistants.length; i++) pushAssistant(out, assistants[i] as Message, memo);
}
