import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '@autoclaw/shared';
import { createChatService, type ChatServiceDeps } from './chat-service';
import { createOpenAIProvider, type Provider } from './providers';
import { startAnthropicWireServer } from '../testing/anthropic-wire-server';
import { startOpenAIWireServer } from '../testing/openai-wire-server';
import type { WireServerHandle } from '../testing/wire-server-base';
import type { WireServerOptions } from '../testing/wire-types';
import { TEST_KEY, deltaText, defaultModel, makeProvider, openHarness, waitFor, type Harness, type ProviderKind } from './test-harness';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(
  kind: ProviderKind,
  serverOpts: Parameters<typeof startAnthropicWireServer>[0] = {},
  harnessOpts: Partial<ChatServiceDeps> = {},
) {
  const server: WireServerHandle =
    kind === 'anthropic' ? await startAnthropicWireServer({ apiKey: TEST_KEY, ...serverOpts }) : await startOpenAIWireServer({ apiKey: TEST_KEY, ...serverOpts });
  cleanups.push(() => server.close());
  const provider = makeProvider(kind, server.url);
  const h: Harness = await openHarness({ resolveProvider: () => ({ provider, model: defaultModel(kind) }), ...harnessOpts });
  cleanups.push(() => h.close());
  return { server, h };
}

describe('delta batching', () => {
  it('text pieces that arrive in one read go out as one delta, in order, before the message is done', async () => {
    const words = ['one ', 'two ', 'three ', 'four ', 'five'];
    const provider: Provider = {
      id: 'anthropic',
      async *stream() {
        // All pieces in one tick, as when one network read holds several SSE events.
        for (const text of words) yield { type: 'text', text };
        yield { type: 'usage', usage: { inputTokens: 5, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0 } };
        yield { type: 'done', stopReason: 'end_turn' };
      },
    };
    const h = await openHarness({ resolveProvider: () => ({ provider, model: defaultModel('anthropic') }) });
    cleanups.push(() => h.close());
    const rec = h.record();
    h.send('count to five');
    await h.service.idle();
    const answer = h.service.history(h.session.id)[1]!;
    expect(answer.text).toBe(words.join(''));
    await waitFor(() => rec.events.some((e) => e.event.type === 'message' && e.event.message.id === answer.id && e.event.message.status === 'done'), 2000, 'answer done');
    const deltas = rec.events.filter((e) => e.event.type === 'delta');
    expect(deltas.map((e) => e.event.type === 'delta' && [e.event.offset, e.event.text])).toEqual([[0, words.join('')]]);
    const doneAt = rec.events.findIndex((e) => e.event.type === 'message' && e.event.message.id === answer.id && e.event.message.status === 'done');
    expect(rec.events.indexOf(deltas[0]!)).toBeLessThan(doneAt);
  });
});

describe.each(['anthropic', 'openai'] as const)('chat over the real %s SDK', (kind) => {
  it('streams deltas with offsets to a subscriber and stores the answer', async () => {
    // Words a few ms apart arrive in separate reads, so each is its own delta.
    const { h } = await setup(kind, { wordDelayMs: 5 });
    const rec = h.record();
    const user = h.send('hello there, how are you today?');
    expect(user.status).toBe('queued');
    await h.service.idle();

    const history = h.service.history(h.session.id);
    expect(history.map((m) => [m.role, m.status])).toEqual([
      ['user', 'done'],
      ['assistant', 'done'],
    ]);
    const answer = history[1]!;
    expect(answer.text).toBe('Echo: hello there, how are you today?');
    expect(answer.model).toBe(`${kind}:${defaultModel(kind).model}`);
    await waitFor(() => rec.events.some((e) => e.event.type === 'session' && !e.event.session.busy), 2000, 'idle session event');
    const deltas = rec.events.filter((e) => e.event.type === 'delta');
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltaText(rec.events, answer.id)).toBe(answer.text);
    expect(rec.events[0]!.event.type).toBe('sync');
    const last = [...rec.events].reverse().find((e) => e.event.type === 'message' && e.event.message.id === answer.id);
    expect(last?.event.type === 'message' && last.event.message.status).toBe('done');
  });

  it('runs a tool round with parallel calls and feeds the results back', async () => {
    const { h, server } = await setup(kind);
    server.enqueue({
      kind: 'tool_use',
      calls: [
        { name: 'current_time', input: {} },
        { name: 'memory_save', input: { text: 'The user likes green tea' } },
      ],
    });
    h.send('what time is it? also remember I like green tea');
    await h.service.idle();

    const history = h.service.history(h.session.id);
    expect(history.map((m) => m.role)).toEqual(['user', 'assistant', 'assistant']);
    const [, round, final] = history;
    expect(round!.toolCalls.map((c) => [c.name, c.status])).toEqual([
      ['current_time', 'done'],
      ['memory_save', 'done'],
    ]);
    expect(JSON.parse(round!.toolCalls[0]!.result!)).toHaveProperty('timeZone');
    expect(final!.text).toContain('Tool current_time returned:');
    expect(final!.text).toContain('Tool memory_save returned: Saved memory');
    expect(h.store.searchMemories('green tea', 5).map((m) => m.text)).toEqual(['The user likes green tea']);
    expect(server.requests).toHaveLength(2);
    expect(history[0]!.status).toBe('done');
  });
});

describe('turn queue', () => {
  it('runs a message sent during a running turn afterwards: both answered, in order, none merged', async () => {
    const { h, server } = await setup('anthropic');
    h.send('first one /slow please');
    await waitFor(() => h.service.history(h.session.id).some((m) => m.role === 'assistant' && m.text.length > 0), 3000, 'first text');
    const second = h.send('second message');
    expect(second.status).toBe('queued');
    expect(h.store.getMessage(second.id)?.status).toBe('queued');
    await h.service.idle();

    const history = h.service.history(h.session.id);
    expect(history.map((m) => [m.role, m.status, m.text])).toEqual([
      ['user', 'done', 'first one /slow please'],
      ['assistant', 'done', 'Echo: first one /slow please'],
      ['user', 'done', 'second message'],
      ['assistant', 'done', 'Echo: second message'],
    ]);
    expect(server.requests).toHaveLength(2);
    // The second request saw the first exchange complete, then only its own message.
    const body = server.requests[1]!.body as { messages: Array<{ role: string; content: unknown }> };
    expect(body.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(JSON.stringify(body.messages[2]!.content)).toContain('second message');
    expect(JSON.stringify(body.messages[2]!.content)).not.toContain('first one');
  });

  it('does not run a message again when its clientId is sent twice', async () => {
    const { h, server } = await setup('anthropic');
    const first = h.service.send({ sessionId: h.session.id, clientId: 'client-dup-0001', text: 'only once' });
    const again = h.service.send({ sessionId: h.session.id, clientId: 'client-dup-0001', text: 'only once' });
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
    expect(again.message.id).toBe(first.message.id);
    await h.service.idle();
    const third = h.service.send({ sessionId: h.session.id, clientId: 'client-dup-0001', text: 'only once' });
    expect(third.duplicate).toBe(true);
    await h.service.idle();
    expect(server.requests).toHaveLength(1);
    expect(h.service.history(h.session.id)).toHaveLength(2);
  });

  it('batches messages sent together into one commit, each answered once, in order', async () => {
    const { h, server } = await setup('anthropic');
    const sends = ['one', 'two', 'three', 'two'].map((text, i) =>
      h.service.sendBatched({ sessionId: h.session.id, clientId: `client-batch-${i === 3 ? 1 : i}`, text: `batched ${text}` }),
    );
    const results = await Promise.all(sends);
    expect(results.map((r) => r.duplicate)).toEqual([false, false, false, true]);
    expect(results[3]!.message.id).toBe(results[1]!.message.id);
    await h.service.idle();
    const users = h.service.history(h.session.id).filter((m) => m.role === 'user');
    expect(users.map((m) => [m.text, m.status])).toEqual([
      ['batched one', 'done'],
      ['batched two', 'done'],
      ['batched three', 'done'],
    ]);
    expect(server.requests).toHaveLength(3);
  });

  it('runs different sessions concurrently', async () => {
    const { h } = await setup('anthropic');
    const other = h.service.createSession({ name: 'other' });
    h.send('slow one /hang');
    h.send('quick one', other.id);
    await waitFor(() => h.service.history(other.id).some((m) => m.role === 'assistant' && m.status === 'done'), 3000, 'other session');
    expect(h.service.history(h.session.id)[0]!.status).toBe('running');
    expect(h.service.cancel(h.session.id)).toBe(true);
    await h.service.idle();
  });

  it('re-queues messages left queued by an earlier process on start', async () => {
    const { h, server } = await setup('anthropic');
    // A message stored but never run (as after a crash between commit and turn).
    const orphan = h.store.insertUserMessage({ sessionId: h.session.id, clientId: 'client-orphan-01', text: 'left behind' });
    expect(server.requests).toHaveLength(0);
    // A second service over the same store stands for the next gateway start.
    const provider = makeProvider('anthropic', server.url);
    const service = createChatService({ store: h.store, workspaceDir: h.workspaceDir, resolveProvider: () => ({ provider, model: defaultModel('anthropic') }) });
    await service.start();
    await service.idle();
    await service.stop();
    expect(h.store.getMessage(orphan.message.id)?.status).toBe('done');
    expect(h.store.listMessages(h.session.id).map((m) => m.text)).toEqual(['left behind', 'Echo: left behind']);
  });
});

describe('clear errors', () => {
  it('fails the turn with NOT_CONFIGURED when there is no key', async () => {
    const h = await openHarness({
      resolveProvider: () => {
        throw new AppError('NOT_CONFIGURED', 'No Anthropic API key: set ANTHROPIC_API_KEY or add a key in Settings');
      },
    });
    cleanups.push(() => h.close());
    const user = h.send('hi');
    await h.service.idle();
    const stored = h.store.getMessage(user.id)!;
    expect(stored.status).toBe('failed');
    expect(stored.error?.code).toBe('NOT_CONFIGURED');
    expect(h.service.history(h.session.id)).toHaveLength(1);
    expect(h.service.listSessions()[0]!.busy).toBe(false);
  });

  it.each([
    ['a bad key', { apiKey: 'sk-the-real-one' }, 'PROVIDER_AUTH'],
    ['an unknown model', { models: ['claude-opus-4-1'] }, 'PROVIDER_MODEL_NOT_FOUND'],
  ] as Array<[string, WireServerOptions, string]>)('fails the turn clearly for %s', async (_name, serverOpts, code) => {
    const server = await startAnthropicWireServer(serverOpts);
    cleanups.push(() => server.close());
    const provider = makeProvider('anthropic', server.url);
    const h = await openHarness({ resolveProvider: () => ({ provider, model: defaultModel('anthropic') }) });
    cleanups.push(() => h.close());
    const user = h.send('hi');
    await h.service.idle();
    const [stored, answer] = h.service.history(h.session.id);
    expect(stored!.id).toBe(user.id);
    expect([stored!.status, stored!.error?.code]).toEqual(['failed', code]);
    expect([answer!.status, answer!.error?.code, answer!.text]).toEqual(['failed', code, '']);
    expect(JSON.stringify(h.store.dump())).not.toContain(TEST_KEY);
  });

  it('reports a provider outage after the retries are spent', async () => {
    const { h, server } = await setup('anthropic', {}, { retry: { sleep: async () => {}, maxAttempts: 2 } });
    server.enqueue(
      { kind: 'http_error', status: 529, type: 'overloaded_error', retryAfter: '0' },
      { kind: 'http_error', status: 529, type: 'overloaded_error', retryAfter: '0' },
    );
    const user = h.send('anyone there?');
    await h.service.idle();
    expect(server.requests).toHaveLength(2);
    expect(h.store.getMessage(user.id)?.error?.code).toBe('PROVIDER_UNAVAILABLE');
    expect(h.store.getMessage(user.id)?.error?.message).toMatch(/overload|unavailable|try again/i);
  });
});

describe('usage', () => {
  it('records one usage row per provider call, priced by the shared table', async () => {
    const { h, server } = await setup('anthropic');
    server.enqueue(
      { kind: 'tool_use', calls: [{ name: 'current_time', input: {} }], usage: { input: 1000, output: 50 } },
      { kind: 'text', text: 'It is noon.', usage: { input: 1200, output: 10, cacheRead: 100 } },
    );
    h.send('time?');
    await h.service.idle();
    const summary = h.service.usageSummary();
    expect(summary.calls).toBe(2);
    expect([summary.inputTokens, summary.outputTokens, summary.cacheReadTokens]).toEqual([2200, 60, 100]);
    // claude-haiku-4-5: $1 in, $5 out, $0.10 cache read per million tokens.
    expect(summary.costMicros).toBe(2200 * 1 + 60 * 5 + Math.round(100 * 0.1));
    expect(summary.unpricedCalls).toBe(0);
    const answers = h.service.history(h.session.id).filter((m) => m.role === 'assistant');
    expect(answers.map((m) => m.usage?.inputTokens)).toEqual([1000, 1200]);
  });

  it('records an unpriced model with a null cost, tokens kept', async () => {
    const server = await startOpenAIWireServer({});
    cleanups.push(() => server.close());
    const provider = createCompatible(server.url);
    const h = await openHarness({ resolveProvider: () => ({ provider, model: { provider: 'openai-compatible', model: 'llama3.2' } }) });
    cleanups.push(() => h.close());
    h.send('hello llama');
    await h.service.idle();
    const answer = h.service.history(h.session.id)[1]!;
    expect(answer.text).toBe('Echo: hello llama');
    expect(answer.usage?.costMicros).toBeNull();
    expect(answer.usage?.outputTokens).toBeGreaterThan(0);
    expect(h.service.usageSummary()).toMatchObject({ calls: 1, unpricedCalls: 1, costMicros: 0 });
  });
});

function createCompatible(url: string) {
  return createOpenAIProvider({ id: 'openai-compatible', baseURL: url });
}
