import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LIMITS, MessageSchema } from '@autoclaw/shared';
import { codeOf, tempStore, type TempStore } from './test-helpers';
import type { Session } from '@autoclaw/shared';

let t: TempStore;
let s: Session;
beforeEach(() => {
  t = tempStore();
  s = t.store.ensureSession('main');
});
afterEach(() => t.cleanup());

const send = (text: string, clientId: string, sessionId = s.id) =>
  t.store.insertUserMessage({ sessionId, clientId, text });

describe('user messages', () => {
  it('stores a queued user message', () => {
    const { message, duplicate } = send('hello', 'client-0001');
    expect(duplicate).toBe(false);
    expect(MessageSchema.parse(message)).toEqual(message);
    expect(message).toMatchObject({
      sessionId: s.id,
      role: 'user',
      text: 'hello',
      clientId: 'client-0001',
      status: 'queued',
      error: null,
      model: null,
      toolCalls: [],
      usage: null,
      createdAt: t.clock.now(),
    });
    expect(t.store.getMessage(message.id)).toEqual(message);
    expect(t.store.listMessages(s.id)).toEqual([message]);
  });

  it('dedupes on clientId, in any session, writing nothing', () => {
    const first = send('hello', 'client-0001');
    const other = t.store.ensureSession('other');
    const before = t.store.dump();
    t.clock.advance(1000);
    const again = send('hello (retry)', 'client-0001');
    const elsewhere = send('hello', 'client-0001', other.id);
    expect(again).toEqual({ message: first.message, duplicate: true });
    expect(elsewhere).toEqual({ message: first.message, duplicate: true });
    expect(t.store.dump()).toBe(before);
    expect(t.store.listMessages(s.id)).toHaveLength(1);
    expect(t.store.listMessages(other.id)).toHaveLength(0);
  });

  it('refuses bad input without writing', () => {
    const before = t.store.dump();
    expect(codeOf(() => send('hi', 'client-0001', 'no-such-session'))).toBe('NOT_FOUND');
    expect(codeOf(() => send('hi', 'short'))).toBe('BAD_REQUEST');
    expect(codeOf(() => send('hi', 'client 0001 with spaces'))).toBe('BAD_REQUEST');
    expect(codeOf(() => send('', 'client-0002'))).toBe('BAD_REQUEST');
    expect(codeOf(() => send('x'.repeat(LIMITS.messageChars + 1), 'client-0003'))).toBe('PAYLOAD_TOO_LARGE');
    // Wrong runtime types (a caller that skipped validation) are typed errors too.
    expect(codeOf(() => t.store.insertUserMessage({ sessionId: s.id, clientId: 'client-0004', text: 42 as unknown as string }))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.insertUserMessage({ sessionId: {} as unknown as string, clientId: 'client-0005', text: 'hi' }))).toBe('NOT_FOUND');
    expect(t.store.dump()).toBe(before);
  });

  it('keeps insertion order and pages by seq', () => {
    const other = t.store.ensureSession('other');
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      ids.push(send(`m${i}`, `client-a-${i}`).message.id);
      send(`o${i}`, `client-b-${i}`, other.id);
    }
    const all = t.store.listMessages(s.id);
    expect(all.map((m) => m.text)).toEqual(ids.map((_, i) => `m${i}`));
    const seqs = ids.map((id) => t.store.messageSeq(id) ?? -1);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(10);

    const page = t.store.listMessages(s.id, { afterSeq: seqs[3], limit: 4 });
    expect(page.map((m) => m.text)).toEqual(['m4', 'm5', 'm6', 'm7']);
    expect(t.store.listMessages(s.id, { afterSeq: seqs[9] })).toEqual([]);
    expect(t.store.messageSeq('nope')).toBeNull();
    expect(codeOf(() => t.store.listMessages(s.id, { limit: 0 }))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.listMessages(s.id, { afterSeq: -1 }))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.listMessages('nope'))).toBe('NOT_FOUND');
  });

  it('never hands out the seq of a deleted newest message again', () => {
    const a = send('a', 'client-seq-a').message;
    const seqA = t.store.messageSeq(a.id) ?? 0;
    expect(t.store.deleteMessage(a.id)).toBe(true);
    const b = send('b', 'client-seq-b').message;
    expect(t.store.messageSeq(b.id)).toBeGreaterThan(seqA);
  });

  it('finds the oldest queued message', () => {
    const a = send('a', 'client-q-a').message;
    const b = send('b', 'client-q-b').message;
    expect(t.store.nextQueued(s.id)?.id).toBe(a.id);
    t.store.setMessageStatus(a.id, 'running');
    expect(t.store.nextQueued(s.id)?.id).toBe(b.id);
    t.store.setMessageStatus(b.id, 'cancelled');
    expect(t.store.nextQueued(s.id)).toBeNull();
    expect(t.store.nextQueued('nope')).toBeNull();
  });
});

describe('assistant messages and turns', () => {
  it('streams an answer, sets statuses and errors', () => {
    const turn = send('question', 'client-turn-1').message;
    t.clock.advance(10);
    const answer = t.store.createAssistantMessage({ sessionId: s.id, turnId: turn.id, model: 'anthropic:claude-x' });
    expect(answer).toMatchObject({ role: 'assistant', text: '', status: 'streaming', model: 'anthropic:claude-x', clientId: null });
    // What the call returns is what the store holds.
    expect(answer).toEqual(t.store.getMessage(answer.id));

    t.clock.advance(10);
    t.store.setMessageText(answer.id, 'Hello, wor');
    t.store.setMessageText(answer.id, 'Hello, world');
    const failed = t.store.setMessageStatus(answer.id, 'failed', { code: 'PROVIDER_UNAVAILABLE', message: 'overloaded' });
    expect(failed).toMatchObject({ text: 'Hello, world', status: 'failed', error: { code: 'PROVIDER_UNAVAILABLE', message: 'overloaded' } });
    expect(failed.updatedAt).toBe(t.clock.now());
    // A new status without an error clears the old one.
    expect(t.store.setMessageStatus(answer.id, 'done').error).toBeNull();

    expect(codeOf(() => t.store.setMessageText('nope', 'x'))).toBe('NOT_FOUND');
    expect(codeOf(() => t.store.setMessageStatus('nope', 'done'))).toBe('NOT_FOUND');
    expect(codeOf(() => t.store.setMessageStatus(answer.id, 'bogus' as 'done'))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.setMessageStatus(answer.id, 'failed', { code: 'NOPE' as 'INTERNAL', message: '' }))).toBe('BAD_REQUEST');
  });

  it('checks the turn an answer belongs to', () => {
    const turn = send('question', 'client-turn-2').message;
    const other = t.store.ensureSession('other');
    const answer = t.store.createAssistantMessage({ sessionId: s.id, turnId: turn.id, model: 'm' });
    const before = t.store.dump();
    expect(codeOf(() => t.store.createAssistantMessage({ sessionId: s.id, turnId: 'nope', model: 'm' }))).toBe('NOT_FOUND');
    expect(codeOf(() => t.store.createAssistantMessage({ sessionId: 'nope', turnId: turn.id, model: 'm' }))).toBe('NOT_FOUND');
    expect(codeOf(() => t.store.createAssistantMessage({ sessionId: other.id, turnId: turn.id, model: 'm' }))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.createAssistantMessage({ sessionId: s.id, turnId: answer.id, model: 'm' }))).toBe('BAD_REQUEST');
    expect(t.store.dump()).toBe(before);
  });

  it('lists the messages of a turn with their tool calls in order', () => {
    const turn = send('question', 'client-turn-3').message;
    const later = send('next question', 'client-turn-4').message;
    const first = t.store.createAssistantMessage({ sessionId: s.id, turnId: turn.id, model: 'm' });
    const calls = t.store.insertToolCalls(first.id, [
      { id: 'toolu_b', name: 'time', input: '{}', risky: false, status: 'running' },
      { id: 'toolu_a', name: 'write_file', input: '{"path":"x"}', risky: true, status: 'awaiting_approval' },
    ]);
    expect(calls.map((c) => c.id)).toEqual(['toolu_b', 'toolu_a']);
    const second = t.store.createAssistantMessage({ sessionId: s.id, turnId: turn.id, model: 'm' });
    t.store.createAssistantMessage({ sessionId: s.id, turnId: later.id, model: 'm' });

    const messages = t.store.turnMessages(turn.id);
    expect(messages.map((m) => m.id)).toEqual([first.id, second.id]);
    expect(messages[0]?.toolCalls.map((c) => [c.id, c.risky, c.status])).toEqual([
      ['toolu_b', false, 'running'],
      ['toolu_a', true, 'awaiting_approval'],
    ]);
    expect(t.store.turnMessages('nope')).toEqual([]);
    expect(t.store.listMessages(s.id).map((m) => m.toolCalls.length)).toEqual([0, 0, 2, 0, 0]);
  });
});

describe('tool calls', () => {
  it('inserts, updates and refuses duplicates atomically', () => {
    const turn = send('q', 'client-tool-1').message;
    const answer = t.store.createAssistantMessage({ sessionId: s.id, turnId: turn.id, model: 'm' });
    t.store.insertToolCalls(answer.id, [{ id: 'call_1', name: 'time', input: '{}', risky: false, status: 'pending' }]);
    t.clock.advance(7);
    const running = t.store.updateToolCall('call_1', { status: 'running' });
    expect(running).toMatchObject({ status: 'running', result: null, updatedAt: t.clock.now() });
    expect(t.store.updateToolCall('call_1', { status: 'done', result: '12:00' }).result).toBe('12:00');
    // Without `result` the old one stays; null clears it.
    expect(t.store.updateToolCall('call_1', { status: 'done' }).result).toBe('12:00');
    expect(t.store.updateToolCall('call_1', { status: 'error', result: null }).result).toBeNull();
    expect(t.store.getToolCall('call_1')?.messageId).toBe(answer.id);

    const before = t.store.dump();
    const dup = [
      { id: 'call_2', name: 'time', input: '{}', risky: false, status: 'pending' as const },
      { id: 'call_1', name: 'time', input: '{}', risky: false, status: 'pending' as const },
    ];
    expect(codeOf(() => t.store.insertToolCalls(answer.id, dup))).toBe('CONFLICT');
    expect(codeOf(() => t.store.insertToolCalls(answer.id, [dup[0]!, dup[0]!]))).toBe('CONFLICT');
    expect(codeOf(() => t.store.insertToolCalls('nope', [dup[0]!]))).toBe('NOT_FOUND');
    expect(codeOf(() => t.store.insertToolCalls(answer.id, [{ ...dup[0]!, id: 'bad id!' }]))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.insertToolCalls(answer.id, [{ ...dup[0]!, status: 'nope' as 'done' }]))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.updateToolCall('nope', { status: 'done' }))).toBe('NOT_FOUND');
    expect(t.store.dump()).toBe(before);
    expect(t.store.getToolCall('call_2')).toBeNull();
  });

  it('deleteMessage takes its tool calls and keeps its usage', () => {
    const turn = send('q', 'client-tool-2').message;
    const answer = t.store.createAssistantMessage({ sessionId: s.id, turnId: turn.id, model: 'm' });
    t.store.insertToolCalls(answer.id, [{ id: 'call_9', name: 'time', input: '{}', risky: false, status: 'done' }]);
    const usage = { inputTokens: 3, outputTokens: 4, cacheReadTokens: 0, cacheWriteTokens: 0 };
    t.store.recordUsage({ sessionId: s.id, messageId: answer.id, provider: 'anthropic', model: 'x', usage, costMicros: 9 });
    expect(t.store.deleteMessage(answer.id)).toBe(true);
    expect(t.store.getToolCall('call_9')).toBeNull();
    expect(t.store.usageSummary({ sessionId: s.id })).toMatchObject({ calls: 1, costMicros: 9 });
    expect(t.store.deleteMessage(answer.id)).toBe(false);
    expect(t.store.listMessages(s.id).map((m) => m.id)).toEqual([turn.id]);
  });
});

describe('usage', () => {
  const u = (input: number, output: number, cacheRead = 0, cacheWrite = 0) => ({
    inputTokens: input,
    outputTokens: output,
    cacheReadTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
  });

  it('sums a message usage rows; one unpriced row makes its cost unknown', () => {
    const turn = send('q', 'client-usage-1').message;
    const priced = t.store.createAssistantMessage({ sessionId: s.id, turnId: turn.id, model: 'anthropic:a' });
    const mixed = t.store.createAssistantMessage({ sessionId: s.id, turnId: turn.id, model: 'anthropic:a' });
    t.store.recordUsage({ sessionId: s.id, messageId: priced.id, provider: 'anthropic', model: 'a', usage: u(10, 5, 2, 1), costMicros: 100 });
    t.store.recordUsage({ sessionId: s.id, messageId: priced.id, provider: 'anthropic', model: 'b', usage: u(1, 1), costMicros: 11 });
    t.store.recordUsage({ sessionId: s.id, messageId: mixed.id, provider: 'anthropic', model: 'a', usage: u(1, 1), costMicros: 5 });
    t.store.recordUsage({ sessionId: s.id, messageId: mixed.id, provider: 'openai-compatible', model: 'local', usage: u(7, 8), costMicros: null });

    expect(t.store.getMessage(priced.id)?.usage).toEqual({
      provider: 'anthropic',
      model: 'b',
      inputTokens: 11,
      outputTokens: 6,
      cacheReadTokens: 2,
      cacheWriteTokens: 1,
      costMicros: 111,
    });
    const listed = t.store.listMessages(s.id);
    expect(listed.map((m) => (m.usage ? m.usage.costMicros : 'none'))).toEqual(['none', 111, null]);
    expect(listed[2]?.usage).toMatchObject({ inputTokens: 8, outputTokens: 9, model: 'local' });
    expect(t.store.turnMessages(turn.id).map((m) => m.usage?.costMicros)).toEqual([111, null]);
  });

  it('summarizes by session and time, and keeps calls whose session is gone', () => {
    const other = t.store.ensureSession('other');
    t.store.recordUsage({ sessionId: s.id, messageId: null, provider: 'anthropic', model: 'a', usage: u(10, 1), costMicros: 3 });
    t.clock.advance(1000);
    const since = t.clock.now();
    t.store.recordUsage({ sessionId: other.id, messageId: null, provider: 'openai', model: 'b', usage: u(20, 2, 5, 6), costMicros: null });
    t.store.recordUsage({ sessionId: 'deleted-meanwhile', messageId: 'gone', provider: 'openai', model: 'b', usage: u(1, 1), costMicros: 4 });

    expect(t.store.usageSummary()).toEqual({
      calls: 3,
      inputTokens: 31,
      outputTokens: 4,
      cacheReadTokens: 5,
      cacheWriteTokens: 6,
      costMicros: 7,
      unpricedCalls: 1,
    });
    expect(t.store.usageSummary({ sessionId: s.id })).toMatchObject({ calls: 1, costMicros: 3 });
    expect(t.store.usageSummary({ since })).toMatchObject({ calls: 2, costMicros: 4, unpricedCalls: 1 });
    expect(t.store.usageSummary({ sessionId: other.id, since })).toMatchObject({ calls: 1, costMicros: 0, unpricedCalls: 1 });
    expect(t.store.usageSummary({ sessionId: 'nope' })).toMatchObject({ calls: 0, costMicros: 0 });

    const before = t.store.dump();
    const bad = { sessionId: s.id, messageId: null, provider: 'x', model: 'y' };
    expect(codeOf(() => t.store.recordUsage({ ...bad, usage: u(-1, 0), costMicros: 0 }))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.recordUsage({ ...bad, usage: u(1.5, 0), costMicros: 0 }))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.recordUsage({ ...bad, usage: u(1, 0), costMicros: -3 }))).toBe('BAD_REQUEST');
    expect(t.store.dump()).toBe(before);
  });
});

describe('group commit', () => {
  it('inserts a batch in one transaction with per-item outcomes', () => {
    const outcomes = t.store.insertUserMessages([
      { sessionId: s.id, clientId: 'client-batch-1', text: 'one' },
      { sessionId: 'nope', clientId: 'client-batch-2', text: 'lost' },
      { sessionId: s.id, clientId: 'client-batch-1', text: 'one again' },
      { sessionId: s.id, clientId: 'bad', text: 'x' },
      { sessionId: s.id, clientId: 'client-batch-3', text: 'three' },
    ]);
    expect(outcomes.map((o) => (o.ok ? (o.result.duplicate ? 'dup' : 'ok') : o.error.code))).toEqual([
      'ok',
      'NOT_FOUND',
      'dup',
      'BAD_REQUEST',
      'ok',
    ]);
    expect(t.store.listMessages(s.id).map((m) => m.text)).toEqual(['one', 'three']);
  });

  it('lists a long session quickly', () => {
    for (let i = 0; i < 300; i++) {
      const turn = send(`question ${i}`, `client-long-${i}`).message;
      const answer = t.store.createAssistantMessage({ sessionId: s.id, turnId: turn.id, model: 'm' });
      t.store.setMessageText(answer.id, `answer ${i} `.repeat(20));
      if (i % 3 === 0) t.store.insertToolCalls(answer.id, [{ id: `call_${i}`, name: 'time', input: '{}', risky: false, status: 'done' }]);
      t.store.recordUsage({ sessionId: s.id, messageId: answer.id, provider: 'a', model: 'b', usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 }, costMicros: 1 });
    }
    const list = t.store.listMessages(s.id);
    expect(list).toHaveLength(600);
    expect(list.filter((m) => m.toolCalls.length === 1)).toHaveLength(100);
    expect(list.filter((m) => m.usage?.costMicros === 1)).toHaveLength(300);
    const times: number[] = [];
    for (let i = 0; i < 15; i++) {
      const started = performance.now();
      t.store.listMessages(s.id);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    // A few ms on a laptop; the bound only catches a per-message query or a table scan.
    expect(times[7]).toBeLessThan(60);
  });
});
