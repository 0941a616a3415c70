import { describe, expect, it } from 'vitest';
import type { ChatEvent, Message, Session, ToolCall } from '@autoclaw/shared';
import { EMPTY_CHAT, addIfMissing, applyChatEvent, isBusy, removeMessage, type ChatState } from './chat-reducer';

const session: Session = { id: 's1', name: 'main', title: 'Main', channel: 'webchat', createdAt: 1, updatedAt: 1, preview: '', busy: false };

function message(id: string, patch: Partial<Message> = {}): Message {
  return {
    id,
    sessionId: 's1',
    seq: 1,
    turnId: null,
    role: 'assistant',
    text: '',
    clientId: null,
    status: 'streaming',
    error: null,
    model: 'anthropic:claude-sonnet-4-5',
    toolCalls: [],
    usage: null,
    createdAt: 10,
    updatedAt: 10,
    ...patch,
  };
}

function run(events: ChatEvent[], from: ChatState = EMPTY_CHAT): ChatState {
  return events.reduce(applyChatEvent, from);
}

describe('applyChatEvent', () => {
  it('replaces everything on sync and orders by store sequence', () => {
    const state = run([
      { type: 'message', message: message('old') },
      { type: 'sync', session, messages: [message('b', { seq: 20 }), message('a', { seq: 5 })] },
    ]);
    expect(state.synced).toBe(true);
    expect(state.messages.map((m) => m.id)).toEqual(['a', 'b']);
  });

  it("shows a turn's answers right after its message, even when a later message was stored first", () => {
    const user = (id: string, seq: number) => message(id, { role: 'user', seq, status: 'done' });
    const state = run([
      { type: 'sync', session, messages: [user('u1', 1), message('a1', { seq: 2, turnId: 'u1' })] },
      { type: 'message', message: user('u2', 3) }, // typed while u1's turn runs
      { type: 'message', message: message('a1b', { seq: 4, turnId: 'u1' }) }, // u1's turn goes on (after a tool)
      { type: 'message', message: message('a2', { seq: 5, turnId: 'u2' }) },
    ]);
    expect(state.messages.map((m) => m.id)).toEqual(['u1', 'a1', 'a1b', 'u2', 'a2']);
  });

  it('applies deltas only at the current length, so replays never duplicate', () => {
    const start = run([{ type: 'sync', session, messages: [message('m')] }]);
    const streamed = run(
      [
        { type: 'delta', messageId: 'm', offset: 0, text: 'Echo: ' },
        { type: 'delta', messageId: 'm', offset: 6, text: 'hello ' },
        { type: 'delta', messageId: 'm', offset: 0, text: 'Echo: ' }, // replay after reconnect
        { type: 'delta', messageId: 'm', offset: 6, text: 'hello world' }, // overlapping replay
        { type: 'delta', messageId: 'm', offset: 40, text: 'gap' }, // ahead of us: ignored
      ],
      start,
    );
    expect(streamed.messages[0]?.text).toBe('Echo: hello world');
  });

  it('keeps streamed text a stale streaming message event would shorten, but takes the final text', () => {
    const state = run([
      { type: 'sync', session, messages: [message('m')] },
      { type: 'delta', messageId: 'm', offset: 0, text: 'Echo: hi' },
      { type: 'message', message: message('m', { text: 'Echo:' }) },
    ]);
    expect(state.messages[0]?.text).toBe('Echo: hi');
    const done = applyChatEvent(state, { type: 'message', message: message('m', { text: 'Echo: hi!', status: 'done' }) });
    expect(done.messages[0]).toMatchObject({ text: 'Echo: hi!', status: 'done' });
  });

  it('upserts tool calls into their message', () => {
    const call: ToolCall = {
      id: 't1',
      messageId: 'm',
      name: 'workspace_write_file',
      input: '{"path":"notes.txt"}',
      status: 'awaiting_approval',
      result: null,
      risky: true,
      createdAt: 11,
      updatedAt: 11,
    };
    const state = run([
      { type: 'sync', session, messages: [message('m')] },
      { type: 'tool', toolCall: call },
      { type: 'tool', toolCall: { ...call, status: 'done', result: 'wrote 2 bytes' } },
    ]);
    expect(state.messages[0]?.toolCalls).toEqual([{ ...call, status: 'done', result: 'wrote 2 bytes' }]);
  });

  it('adds an acknowledged message only when no event brought it yet', () => {
    const synced = run([{ type: 'sync', session, messages: [] }]);
    const acked = message('u', { role: 'user', status: 'queued' });
    expect(addIfMissing(synced, acked).messages).toEqual([acked]);
    const newer = applyChatEvent(synced, { type: 'message', message: { ...acked, status: 'done' } });
    expect(addIfMissing(newer, acked)).toBe(newer);
  });

  it('tracks busy sessions, deletions and removed messages', () => {
    const state = run([
      { type: 'sync', session, messages: [message('m', { status: 'done' })] },
      { type: 'session', session: { ...session, busy: true } },
    ]);
    expect(isBusy(state)).toBe(true);
    expect(isBusy(run([{ type: 'session', session }], state))).toBe(false);
    expect(removeMessage(state, 'm').messages).toEqual([]);
    expect(applyChatEvent(state, { type: 'deleted', sessionId: 's1' }).deleted).toBe(true);
  });
});
