import { afterEach, describe, expect, it } from 'vitest';
import { startAnthropicWireServer } from '../testing/anthropic-wire-server';
import { createChatService } from './chat-service';
import { TEST_KEY, defaultModel, makeProvider, openHarness, waitFor } from './test-harness';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(opts: Parameters<typeof openHarness>[0] extends infer O ? Partial<O> : never = {}) {
  const server = await startAnthropicWireServer({ apiKey: TEST_KEY });
  cleanups.push(() => server.close());
  const provider = makeProvider('anthropic', server.url);
  const resolveProvider = () => ({ provider, model: defaultModel('anthropic') });
  const h = await openHarness({ resolveProvider, ...opts });
  cleanups.push(() => h.close());
  return { server, h, resolveProvider };
}

describe('after a crash', () => {
  it('recovers a half-written turn as interrupted; retry continues the answer', async () => {
    const { h, resolveProvider } = await setup();
    // What a kill -9 mid-stream leaves behind.
    const user = h.store.insertUserMessage({ sessionId: h.session.id, clientId: 'client-crash-01', text: 'left behind text' }).message;
    h.store.setMessageStatus(user.id, 'running');
    const partial = h.store.createAssistantMessage({ sessionId: h.session.id, turnId: user.id, model: 'anthropic:claude-haiku-4-5' });
    h.store.setMessageText(partial.id, 'Echo: left');

    const service = createChatService({ store: h.store, workspaceDir: h.workspaceDir, resolveProvider, retry: { maxAttempts: 1 } });
    await service.start();
    expect(service.history(h.session.id).map((m) => m.status)).toEqual(['interrupted', 'interrupted']);
    service.retry(user.id);
    await service.idle();
    expect(service.history(h.session.id).map((m) => [m.id, m.status, m.text])).toEqual([
      [user.id, 'done', 'left behind text'],
      [partial.id, 'done', 'Echo: left behind text'],
    ]);
    await service.stop();
  });
});

describe('resources', () => {
  it('stays bounded over many turns: no live text, approvals, queues or events piling up', async () => {
    const { h } = await setup({ eventBufferSize: 40 });
    const rec = h.record();
    for (let i = 0; i < 60; i++) {
      h.send(`turn number ${i}`);
      await h.service.idle();
    }
    await waitFor(() => rec.events.filter((e) => e.event.type === 'session' && !e.event.session.busy).length >= 60, 3000, 'events');
    expect(h.service.stats()).toEqual({
      sessionsWithEvents: 1,
      bufferedEvents: 40,
      subscribers: 1,
      busySessions: 0,
      pendingApprovals: 0,
      liveMessages: 0,
      cachedHistories: 1,
      queueDepth: 0,
    });
    expect(h.service.history(h.session.id)).toHaveLength(120);
  });

  it('keeps the cached history of a bounded number of sessions', async () => {
    const { h } = await setup();
    for (let i = 0; i < 36; i++) {
      const session = h.service.createSession({ name: `s${i}` });
      h.send('hi', session.id);
    }
    await h.service.idle();
    expect(h.service.stats().cachedHistories).toBe(32);
    expect(h.service.listSessions().every((s) => !s.busy)).toBe(true);
  });

  it('publishes session changes: busy while a turn runs, title on rename', async () => {
    const { h } = await setup();
    const rec = h.record();
    h.send('hello');
    await h.service.idle();
    h.service.renameSession(h.session.id, 'Renamed');
    await waitFor(() => rec.events.some((e) => e.event.type === 'session' && e.event.session.title === 'Renamed'), 3000, 'rename');
    const busy = rec.events.flatMap((e) => (e.event.type === 'session' ? [e.event.session.busy] : []));
    expect(busy).toEqual([true, false, false]);
    const last = rec.events.filter((e) => e.event.type === 'session').at(-2)!.event;
    expect(last.type === 'session' && last.session.preview).toBe('Echo: hello');
  });

  it('refuses to delete a message of the answer being written, and deletes a queued one without running it', async () => {
    const { h, server } = await setup();
    const first = h.send('long one /hang');
    await waitFor(() => (h.service.history(h.session.id)[1]?.text.length ?? 0) > 0, 3000, 'answer started');
    const queued = h.send('never mind this');
    expect(() => h.service.deleteMessage(first.id)).toThrow(/stop it first/);
    h.service.deleteMessage(queued.id);
    h.service.cancel(h.session.id);
    await h.service.idle();
    expect(server.requests).toHaveLength(1);
    expect(h.service.history(h.session.id).map((m) => m.text)).not.toContain('never mind this');
    expect(() => h.service.deleteMessage(queued.id)).toThrow(/not found/);
  });

  it('lists memories without a query and deletes them', async () => {
    const { h } = await setup();
    h.store.saveMemory('likes tea');
    const [memory] = h.service.searchMemories(undefined, 10);
    expect(memory?.text).toBe('likes tea');
    h.service.deleteMemory(memory!.id);
    expect(h.service.searchMemories('tea', 10)).toEqual([]);
    expect(() => h.service.deleteMemory(memory!.id)).toThrow(/not found/);
  });
});
