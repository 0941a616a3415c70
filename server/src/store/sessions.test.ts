import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionSchema } from '@autoclaw/shared';
import { codeOf, tempStore, type TempStore } from './test-helpers';

let t: TempStore;
beforeEach(() => {
  t = tempStore();
});
afterEach(() => t.cleanup());

const usage = { inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0 };

describe('sessions', () => {
  it('creates sessions with default titles and unique names', () => {
    const unnamed = t.store.createSession({});
    expect(SessionSchema.parse(unnamed)).toEqual(unnamed);
    expect(unnamed).toMatchObject({ title: 'New chat', name: unnamed.id, preview: '', busy: false });
    expect(unnamed.createdAt).toBe(t.clock.now());

    const named = t.store.createSession({ name: '  work  ' });
    expect(named).toMatchObject({ name: 'work', title: 'work' });
    const titled = t.store.createSession({ name: 'home', title: 'Home stuff' });
    expect(titled.title).toBe('Home stuff');

    const before = t.store.dump();
    expect(codeOf(() => t.store.createSession({ name: 'work' }))).toBe('CONFLICT');
    expect(codeOf(() => t.store.createSession({ name: '   ' }))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.createSession({ name: 'a\u0007b' }))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.createSession({ name: 'x'.repeat(81) }))).toBe('BAD_REQUEST');
    expect(t.store.dump()).toBe(before);
    expect(t.store.getSession(named.id)).toEqual(named);
    expect(t.store.getSession('nope')).toBeNull();
  });

  it('keeps the channel of a session (webchat by default) and of each usage row, even after the session is gone', () => {
    expect(t.store.createSession({}).channel).toBe('webchat');
    const tg = t.store.ensureSession('telegram:42', { channel: 'telegram' });
    expect(tg.channel).toBe('telegram');
    expect(t.store.ensureSession('telegram:42').channel).toBe('telegram');
    const before = t.store.dump();
    expect(codeOf(() => t.store.createSession({ channel: 'Tele gram' }))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.ensureSession('x', { channel: '' }))).toBe('BAD_REQUEST');
    expect(t.store.dump()).toBe(before);

    t.store.recordUsage({ sessionId: tg.id, messageId: null, provider: 'anthropic', model: 'm', usage, costMicros: 7, channel: 'telegram' });
    t.store.deleteSession(tg.id);
    expect(t.store.dump()).toMatch(/telegram/);
  });

  it('ensureSession makes a session by name on first use only', () => {
    const first = t.store.ensureSession('main');
    t.clock.advance(1000);
    const again = t.store.ensureSession('main');
    expect(again).toEqual(first);
    expect(t.store.ensureSession(' main ')).toEqual(first);
    expect(t.store.listSessions()).toHaveLength(1);
    expect(first.title).toBe('main');
  });

  it('lists sessions by latest activity, with preview and busy flag', () => {
    const a = t.store.ensureSession('a');
    t.clock.advance(10);
    const b = t.store.ensureSession('b');
    expect(t.store.listSessions().map((s) => s.id)).toEqual([b.id, a.id]);

    t.clock.advance(10);
    const sent = t.store.insertUserMessage({ sessionId: a.id, clientId: 'client-0001', text: '  hello\n\n  there\tfriend ' });
    const [first] = t.store.listSessions();
    expect(first).toMatchObject({ id: a.id, preview: 'hello there friend', busy: true, updatedAt: t.clock.now() });

    t.store.setMessageStatus(sent.message.id, 'running');
    expect(t.store.getSession(a.id)?.busy).toBe(true);
    // An empty streaming answer does not blank the preview.
    const answer = t.store.createAssistantMessage({ sessionId: a.id, turnId: sent.message.id, model: 'anthropic:claude' });
    expect(t.store.getSession(a.id)?.preview).toBe('hello there friend');
    t.store.setMessageText(answer.id, `${'word '.repeat(40)}end`);
    const preview = t.store.getSession(a.id)?.preview ?? '';
    expect(preview.length).toBe(120);
    expect(preview.endsWith('…')).toBe(true);
    expect(preview.startsWith('word word')).toBe(true);

    t.store.setMessageStatus(sent.message.id, 'done');
    expect(t.store.getSession(a.id)?.busy).toBe(false);
    t.store.setMessageStatus(sent.message.id, 'queued');
    expect(t.store.getSession(a.id)?.busy).toBe(true);
    expect(t.store.getSession(b.id)?.busy).toBe(false);
  });

  it('renames sessions', () => {
    const s = t.store.ensureSession('main');
    t.clock.advance(5);
    const renamed = t.store.renameSession(s.id, ' Trip plans ');
    expect(renamed).toMatchObject({ title: 'Trip plans', name: 'main', updatedAt: t.clock.now() });
    expect(codeOf(() => t.store.renameSession('missing', 'x'))).toBe('NOT_FOUND');
    expect(codeOf(() => t.store.renameSession(s.id, ''))).toBe('BAD_REQUEST');
  });

  it('deletes a session with its messages, tool calls and summaries, keeping usage', () => {
    const keep = t.store.ensureSession('keep');
    const kept = t.store.insertUserMessage({ sessionId: keep.id, clientId: 'client-keep-1', text: 'stay' });
    const s = t.store.ensureSession('gone');
    const sent = t.store.insertUserMessage({ sessionId: s.id, clientId: 'client-gone-1', text: 'bye' });
    const answer = t.store.createAssistantMessage({ sessionId: s.id, turnId: sent.message.id, model: 'openai:gpt' });
    t.store.insertToolCalls(answer.id, [{ id: 'call_1', name: 'time', input: '{}', risky: false, status: 'done' }]);
    t.store.recordUsage({ sessionId: s.id, messageId: answer.id, provider: 'openai', model: 'gpt', usage, costMicros: 42 });
    t.store.saveSummary({ sessionId: s.id, uptoSeq: 1, text: 'summary' });

    expect(t.store.deleteSession(s.id)).toBe(true);
    expect(t.store.getSession(s.id)).toBeNull();
    expect(t.store.getMessage(sent.message.id)).toBeNull();
    expect(t.store.getMessage(answer.id)).toBeNull();
    expect(t.store.getToolCall('call_1')).toBeNull();
    expect(t.store.latestSummary(s.id)).toBeNull();
    expect(codeOf(() => t.store.listMessages(s.id))).toBe('NOT_FOUND');
    // Costs are history.
    expect(t.store.usageSummary()).toMatchObject({ calls: 1, costMicros: 42, inputTokens: 10 });
    expect(t.store.usageSummary({ sessionId: s.id }).calls).toBe(0);
    expect(t.store.dump()).toMatch(/"session_id":null,"message_id":null,"provider":"openai"/);
    // The other session is untouched; the same client id can never be reused.
    expect(t.store.getMessage(kept.message.id)?.text).toBe('stay');
    expect(t.store.deleteSession(s.id)).toBe(false);
  });
});

describe('dump', () => {
  it('is deterministic and covers every table', () => {
    const s = t.store.ensureSession('main');
    t.store.insertUserMessage({ sessionId: s.id, clientId: 'client-dump-1', text: 'hi' });
    t.store.saveMemory('likes tea');
    t.store.setSetting('model', 'anthropic:claude');
    const dump = t.store.dump();
    expect(t.store.dump()).toBe(dump);
    expect(t.reopen().dump()).toBe(dump);
    for (const table of ['sessions', 'messages', 'tool_calls', 'usage', 'memories', 'summaries', 'devices', 'pairing_codes', 'settings']) {
      expect(dump).toContain(`[${table}]`);
    }
    expect(dump).toContain('likes tea');
  });
});
