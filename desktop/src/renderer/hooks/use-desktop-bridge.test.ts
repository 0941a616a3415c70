import { describe, expect, it } from 'vitest';
import type { Message } from '@autoclaw/shared';
import { EMPTY_CHAT, type ChatState } from '../lib/chat-reducer';
import { finishedAnswers } from './use-desktop-bridge';

const message = (id: string, role: Message['role'], status: Message['status'], text = 'hi'): Message => ({
  id,
  sessionId: 's1',
  seq: Number(id.replace(/\D/g, '')) || 1,
  turnId: role === 'assistant' ? 'u1' : null,
  role,
  text,
  clientId: null,
  status,
  error: null,
  model: null,
  toolCalls: [],
  usage: null,
  createdAt: 1,
  updatedAt: 1,
});

const chat = (...messages: Message[]): ChatState => ({ ...EMPTY_CHAT, messages, synced: true });

describe('finishedAnswers', () => {
  it('reports an answer that finished between two snapshots', () => {
    const before = chat(message('u1', 'user', 'done'), message('a2', 'assistant', 'streaming', 'Ec'));
    const after = chat(message('u1', 'user', 'done'), message('a2', 'assistant', 'done', 'Echo: hi'));
    expect(finishedAnswers(before, after)).toEqual([{ id: 'a2', text: 'Echo: hi' }]);
  });

  it('ignores answers that were already done, replays (sync) and user messages', () => {
    const done = chat(message('u1', 'user', 'done'), message('a2', 'assistant', 'done'));
    expect(finishedAnswers(done, chat(...done.messages))).toEqual([]);
    expect(finishedAnswers(undefined, done)).toEqual([]);
    expect(finishedAnswers(chat(), done)).toEqual([]);
    const userBefore = chat(message('u1', 'user', 'queued'));
    expect(finishedAnswers(userBefore, chat(message('u1', 'user', 'done')))).toEqual([]);
    const failed = chat(message('a2', 'assistant', 'failed'));
    expect(finishedAnswers(chat(message('a2', 'assistant', 'streaming')), failed)).toEqual([]);
  });
});
