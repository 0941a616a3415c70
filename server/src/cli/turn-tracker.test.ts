import { describe, expect, it } from 'vitest';
import type { ChatEvent, Message } from '@autoclaw/shared';
import { TurnTracker } from './turn-tracker';

const base = { sessionId: 's1', seq: 1, clientId: null, error: null, model: null, toolCalls: [], usage: null, createdAt: 1, updatedAt: 1 };
const user = (id: string, status: Message['status'], extra: Partial<Message> = {}): Message => ({ ...base, id, turnId: null, role: 'user', text: 'q', status, ...extra });
const assistant = (id: string, turnId: string, text: string, status: Message['status'] = 'streaming'): Message => ({
  ...base,
  id,
  turnId,
  role: 'assistant',
  text,
  status,
});
const msg = (message: Message): ChatEvent => ({ type: 'message', message });
const delta = (messageId: string, offset: number, text: string): ChatEvent => ({ type: 'delta', messageId, offset, text });

function tracker() {
  const out: string[] = [];
  const notes: string[] = [];
  const t = new TurnTracker(
    (s) => out.push(s),
    (n) => notes.push(n),
  );
  return { t, out, notes };
}

describe('TurnTracker', () => {
  it('prints only its own turn, each delta once, and ends on the user message status', async () => {
    const { t, out } = tracker();
    t.handle({ type: 'sync', session: { id: 's1', name: 'main', title: '', channel: 'webchat', createdAt: 1, updatedAt: 1, preview: '', busy: true }, messages: [user('u0', 'running'), assistant('a0', 'u0', 'old ')] });
    t.handle(delta('a0', 4, 'other turn'));
    t.setTurn(user('u1', 'queued'));
    t.handle(msg(user('u0', 'done')));
    t.handle(msg(user('u2', 'queued')));
    t.handle(msg(user('u1', 'running')));
    t.handle(msg(assistant('a1', 'u1', '')));
    t.handle(delta('a1', 0, 'Echo:'));
    t.handle(msg(assistant('a9', 'u2', 'queued answer')));
    t.handle(delta('a1', 0, 'Echo:'));
    t.handle(delta('a1', 5, ' hi'));
    t.handle(delta('a1', 3, 'o: hi there'));
    t.handle(msg(assistant('a1', 'u1', 'Echo: hi there!', 'done')));
    t.handle(msg(user('u1', 'done')));
    expect(await t.outcome).toEqual({ status: 'done', error: null });
    expect(out.join('')).toBe('Echo: hi there!\n');
  });

  it('prints the whole answer when the stream starts with a snapshot taken after the turn ended', async () => {
    const { t, out } = tracker();
    const session = { id: 's1', name: 'main', title: '', channel: 'webchat', createdAt: 1, updatedAt: 1, preview: '', busy: false } as const;
    t.handle({ type: 'sync', session, messages: [user('u1', 'done'), assistant('a1', 'u1', 'Let me look.', 'done'), assistant('a2', 'u1', 'Found it.', 'done')] });
    t.setTurn(user('u1', 'queued'));
    expect(await t.outcome).toEqual({ status: 'done', error: null });
    expect(out.join('')).toBe('Let me look.\n\nFound it.\n');
  });

  it('replays events that came before the send answered, and separates messages of one turn', async () => {
    const { t, out, notes } = tracker();
    t.handle(msg(user('u1', 'running')));
    t.handle(msg(assistant('a1', 'u1', 'Let me check.')));
    t.handle({
      type: 'tool',
      toolCall: { id: 't1', messageId: 'a1', name: 'write_file', input: '{}', status: 'awaiting_approval', result: null, risky: true, createdAt: 1, updatedAt: 1 },
    });
    t.handle(msg(assistant('a2', 'u1', '')));
    t.handle(delta('a2', 0, 'Done.'));
    t.setTurn(user('u1', 'queued'));
    t.handle(msg(user('u1', 'failed', { error: { code: 'PROVIDER_AUTH', message: 'bad key' } })));
    expect(await t.outcome).toEqual({ status: 'failed', error: { code: 'PROVIDER_AUTH', message: 'bad key' } });
    expect(out.join('')).toBe('Let me check.\n\nDone.\n');
    expect(notes).toEqual(['tool write_file is waiting for approval (approve it in WebChat)']);
  });

  it('ends when the session is deleted', async () => {
    const { t } = tracker();
    t.setTurn(user('u1', 'queued'));
    t.handle({ type: 'deleted', sessionId: 's1' });
    expect((await t.outcome).status).toBe('cancelled');
  });
});
