import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Session } from '@autoclaw/shared';
import { codeOf, tempStore, type TempStore } from './test-helpers';

let t: TempStore;
let s: Session;
beforeEach(() => {
  t = tempStore();
  s = t.store.ensureSession('main');
});
afterEach(() => t.cleanup());

const usage = { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 };

describe('atomically', () => {
  it('commits the writes inside it together, visible to another connection only after', () => {
    const user = t.store.insertUserMessage({ sessionId: s.id, clientId: 'client-0001', text: 'hi' }).message;
    const answer = t.store.createAssistantMessage({ sessionId: s.id, turnId: user.id, model: 'm' });
    const other = t.reopen();
    const seenInside = t.store.atomically(() => {
      t.store.setMessageText(answer.id, 'hello there');
      t.store.setMessageStatus(answer.id, 'done');
      t.store.setMessageStatus(user.id, 'done');
      return other.getMessage(answer.id)?.status;
    });
    expect(seenInside).toBe('streaming');
    expect(other.getMessage(answer.id)).toMatchObject({ text: 'hello there', status: 'done' });
    expect(other.getMessage(user.id)?.status).toBe('done');
    other.close();
  });

  it('changes nothing when a write inside fails', () => {
    const user = t.store.insertUserMessage({ sessionId: s.id, clientId: 'client-0002', text: 'hi' }).message;
    const answer = t.store.createAssistantMessage({ sessionId: s.id, turnId: user.id, model: 'm' });
    const before = t.store.dump();
    expect(
      codeOf(() =>
        t.store.atomically(() => {
          t.store.setMessageText(answer.id, 'half an answer');
          t.store.setMessageStatus(answer.id, 'done');
          t.store.setMessageStatus('no-such-message', 'done');
        }),
      ),
    ).toBe('NOT_FOUND');
    expect(t.store.dump()).toBe(before);
  });
});

describe('tool calls and usage belong to assistant messages', () => {
  it('refuses tool calls on a user message, and a user message reads as having none', () => {
    const user = t.store.insertUserMessage({ sessionId: s.id, clientId: 'client-0003', text: 'hi' }).message;
    const before = t.store.dump();
    expect(codeOf(() => t.store.insertToolCalls(user.id, [{ id: 'call_1', name: 'time', input: '{}', risky: false, status: 'pending' }]))).toBe('NOT_FOUND');
    expect(t.store.dump()).toBe(before);
    expect(t.store.getMessage(user.id)).toMatchObject({ toolCalls: [], usage: null });
  });

  it('records usage naming a user message as a cost of the session, with no message', () => {
    const user = t.store.insertUserMessage({ sessionId: s.id, clientId: 'client-0004', text: 'hi' }).message;
    t.store.recordUsage({ sessionId: s.id, messageId: user.id, provider: 'anthropic', model: 'claude-haiku-4-5', usage, costMicros: 7 });
    expect(t.store.usageSummary({ sessionId: s.id }).costMicros).toBe(7);
    expect(t.store.getMessage(user.id)?.usage).toBeNull();
    expect(t.store.listMessages(s.id)[0]?.usage).toBeNull();
  });
});
