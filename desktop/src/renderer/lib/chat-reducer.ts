import type { ChatEvent, Message, Session, ToolCall } from '@autoclaw/shared';

/** What the client knows about one session, built only from chat.events. */
export interface ChatState {
  session: Session | null;
  /** In conversation order: each user message followed by its turn's answers (see orderMessages). */
  messages: readonly Message[];
  /** A `sync` arrived: the list is the server's, not a partial view. */
  synced: boolean;
  deleted: boolean;
}

export const EMPTY_CHAT: ChatState = { session: null, messages: [], synced: false, deleted: false };

/**
 * Conversation order: user messages by store order (`seq`), each followed by
 * the answers of its turn (`turnId`). A message typed while a turn runs is
 * stored before that turn's later answers, yet belongs after them on screen.
 */
export function orderMessages(messages: readonly Message[]): Message[] {
  const turnSeq = new Map<string, number>();
  for (const m of messages) if (m.role === 'user') turnSeq.set(m.id, m.seq);
  const key = (m: Message): [number, number, number] => {
    if (m.role === 'user') return [m.seq, 0, m.seq];
    const anchor = m.turnId === null ? undefined : turnSeq.get(m.turnId);
    return anchor === undefined ? [m.seq, 1, m.seq] : [anchor, 1, m.seq];
  };
  return [...messages].sort((a, b) => {
    const [a0, a1, a2] = key(a);
    const [b0, b1, b2] = key(b);
    return a0 - b0 || a1 - b1 || a2 - b2;
  });
}

/**
 * A `message` event is the server's word on a message, except for text it
 * already streamed to us: deltas are append-only, so a longer text that
 * extends the event's text is newer, not wrong.
 */
function mergeMessage(existing: Message | undefined, incoming: Message): Message {
  if (!existing) return incoming;
  const keepStreamedText =
    incoming.status === 'streaming' && existing.text.length > incoming.text.length && existing.text.startsWith(incoming.text);
  return keepStreamedText ? { ...incoming, text: existing.text } : incoming;
}

function upsertMessage(messages: readonly Message[], incoming: Message): Message[] {
  const index = messages.findIndex((m) => m.id === incoming.id);
  if (index === -1) return orderMessages([...messages, incoming]);
  const next = [...messages];
  next[index] = mergeMessage(messages[index], incoming);
  return next;
}

/** Applies streamed text only where it continues what we have: replays and overlaps never duplicate. */
function appendDelta(message: Message, offset: number, text: string): Message {
  const have = message.text.length;
  if (offset > have) return message; // a gap: wait for the message event that carries the full text
  const end = offset + text.length;
  if (end <= have) return message; // already applied
  return { ...message, text: message.text + text.slice(have - offset) };
}

function upsertToolCall(message: Message, call: ToolCall): Message {
  const index = message.toolCalls.findIndex((t) => t.id === call.id);
  const toolCalls = index === -1 ? [...message.toolCalls, call] : message.toolCalls.map((t) => (t.id === call.id ? call : t));
  return { ...message, toolCalls };
}

function mapMessage(state: ChatState, id: string, change: (m: Message) => Message): ChatState {
  const index = state.messages.findIndex((m) => m.id === id);
  const current = state.messages[index];
  if (index === -1 || !current) return state;
  const changed = change(current);
  if (changed === current) return state;
  const messages = [...state.messages];
  messages[index] = changed;
  return { ...state, messages };
}

export function applyChatEvent(state: ChatState, event: ChatEvent): ChatState {
  switch (event.type) {
    case 'sync':
      return { session: event.session, messages: orderMessages(event.messages), synced: true, deleted: false };
    case 'message':
      return { ...state, messages: upsertMessage(state.messages, event.message) };
    case 'delta':
      return mapMessage(state, event.messageId, (m) => appendDelta(m, event.offset, event.text));
    case 'tool':
      return mapMessage(state, event.toolCall.messageId, (m) => upsertToolCall(m, event.toolCall));
    case 'session':
      return { ...state, session: event.session };
    case 'deleted':
      return { ...state, deleted: true };
  }
}

/**
 * Adds a message the gateway acknowledged (chat.send's answer) unless its
 * event got here first: the answer may be older than the events, so it
 * never overwrites. Without this, a sent message would vanish for a moment
 * between leaving the outbox and its `message` event.
 */
export function addIfMissing(state: ChatState, message: Message): ChatState {
  if (state.messages.some((m) => m.id === message.id)) return state;
  return { ...state, messages: orderMessages([...state.messages, message]) };
}

/** Removes a message the user deleted (the server confirmed it). */
export function removeMessage(state: ChatState, messageId: string): ChatState {
  return { ...state, messages: state.messages.filter((m) => m.id !== messageId) };
}

const ACTIVE: ReadonlySet<Message['status']> = new Set(['queued', 'running', 'streaming']);

/** A turn is queued or running: the Stop button and Esc apply. */
export function isBusy(state: ChatState): boolean {
  return (state.session?.busy ?? false) || state.messages.some((m) => ACTIVE.has(m.status));
}
