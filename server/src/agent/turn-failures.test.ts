import { afterEach, describe, expect, it } from 'vitest';
import { startAnthropicWireServer } from '../testing/anthropic-wire-server';
import { startOpenAIWireServer } from '../testing/openai-wire-server';
import type { ChatServiceDeps } from './chat-service';
import { TEST_KEY, deltaText, defaultModel, makeProvider, openHarness, waitFor, type ProviderKind } from './test-harness';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(kind: ProviderKind, harnessOpts: Partial<ChatServiceDeps> = {}) {
  const server = kind === 'anthropic' ? await startAnthropicWireServer({ apiKey: TEST_KEY }) : await startOpenAIWireServer({ apiKey: TEST_KEY });
  cleanups.push(() => server.close());
  const provider = makeProvider(kind, server.url);
  const h = await openHarness({ resolveProvider: () => ({ provider, model: defaultModel(kind) }), ...harnessOpts });
  cleanups.push(() => h.close());
  return { server, h };
}

const firstAnswer = (h: Awaited<ReturnType<typeof setup>>['h']) => h.service.history(h.session.id).find((m) => m.role === 'assistant');

describe('cancel', () => {
  it('stops the running turn, keeps the text shown and marks it cancelled', async () => {
    const { h, server } = await setup('anthropic');
    const rec = h.record();
    const user = h.send('tell me a long story /hang');
    await waitFor(() => rec.events.some((e) => e.event.type === 'delta'), 15_000, 'first delta');
    expect(h.service.cancel(h.session.id)).toBe(true);
    await h.service.idle();
    expect(h.service.cancel(h.session.id)).toBe(false);
    const answer = firstAnswer(h)!;
    expect(answer.status).toBe('cancelled');
    expect(answer.text).toBe(deltaText(rec.events, answer.id));
    expect(answer.text.length).toBeGreaterThan(0);
    expect(h.store.getMessage(user.id)?.status).toBe('cancelled');
    await waitFor(() => server.activeRequests === 0, 15_000, 'provider request closed');
    expect(h.service.stats()).toMatchObject({ busySessions: 0, liveMessages: 0 });
  });

  it('stores streamed text while the stream pauses (throttled writes)', async () => {
    const { h } = await setup('openai', { persistIntervalMs: 30 });
    h.send('wait for it /hang');
    const answer = await waitFor(() => firstAnswer(h), 15_000, 'answer');
    await waitFor(() => h.store.getMessage(answer.id)!.text.length > 0, 15_000, 'persisted text');
    expect(h.store.getMessage(answer.id)!.status).toBe('streaming');
    h.service.cancel(h.session.id);
    await h.service.idle();
  });

  it('stop() marks a running answer interrupted so it can be retried', async () => {
    const { h } = await setup('anthropic');
    const user = h.send('never ending /hang');
    await waitFor(() => (firstAnswer(h)?.text.length ?? 0) > 0 || h.service.history(h.session.id).length > 1, 15_000, 'answer');
    await h.service.stop();
    expect(h.store.getMessage(user.id)?.status).toBe('interrupted');
    expect(firstAnswer(h)?.status).toBe('interrupted');
    expect(() => h.send('after stop')).toThrow(/shutting down/);
  });

  it('deleting a session cancels its turn and ends its subscribers with `deleted`', async () => {
    const { h } = await setup('anthropic');
    const rec = h.record();
    h.send('busy /hang');
    await waitFor(() => rec.events.some((e) => e.event.type === 'delta'), 15_000, 'delta');
    await h.service.deleteSession(h.session.id);
    await h.service.idle();
    await waitFor(() => rec.events.at(-1)?.event.type === 'deleted', 15_000, 'deleted event');
    expect(h.store.getSession(h.session.id)).toBeNull();
    expect(h.service.stats()).toMatchObject({ subscribers: 0, sessionsWithEvents: 0 });
  });
});

describe.each(['anthropic', 'openai'] as const)('failures mid-stream (%s)', (kind) => {
  it('keeps the shown text, marks the answer interrupted; retry continues it without repeating', async () => {
    const { h, server } = await setup(kind);
    const rec = h.record();
    const user = h.send('please answer this carefully /fail-once');
    await h.service.idle();

    const interrupted = firstAnswer(h)!;
    expect(interrupted.status).toBe('interrupted');
    expect(interrupted.error?.code).toMatch(/^PROVIDER_/);
    expect(interrupted.text.length).toBeGreaterThan(0);
    const shown = interrupted.text;
    expect(deltaText(rec.events, interrupted.id)).toBe(shown);
    const failedUser = h.store.getMessage(user.id)!;
    expect(failedUser.status).toBe('interrupted');
    expect(failedUser.error?.code).toBe(interrupted.error?.code);

    const requeued = h.service.retry(user.id);
    expect(requeued.status).toBe('queued');
    await h.service.idle();

    const history = h.service.history(h.session.id);
    expect(history).toHaveLength(2);
    const answer = history[1]!;
    expect(answer.id).toBe(interrupted.id);
    expect(answer.status).toBe('done');
    expect(answer.text).toBe('Echo: please answer this carefully /fail-once');
    // Every delta, before and after the retry, fits exactly once: no text shown twice.
    expect(deltaText(rec.events, answer.id)).toBe(answer.text);
    expect(h.store.getMessage(user.id)?.status).toBe('done');
    // The retry sent the shown text as the answer's prefix.
    const retryBody = JSON.stringify(server.requests.at(-1)!.body);
    expect(retryBody).toContain(shown.trimEnd());
    expect(() => h.service.retry(user.id)).toThrow(/only interrupted, failed or cancelled/);
  });

  it('retries inside the turn when the policy allows, continuing the text', async () => {
    const { h, server } = await setup(kind, { retry: { sleep: async () => {}, maxAttempts: 3 } });
    const rec = h.record();
    h.send('again and again /fail-once');
    await h.service.idle();
    const answer = firstAnswer(h)!;
    expect(answer.status).toBe('done');
    expect(answer.text).toBe('Echo: again and again /fail-once');
    expect(deltaText(rec.events, answer.id)).toBe(answer.text);
    expect(server.requests).toHaveLength(2);
    // One usage record per provider call attempt that reported usage.
    expect(h.service.usageSummary().calls).toBeGreaterThanOrEqual(1);
  });
});

describe('retry', () => {
  it('runs a failed turn again once the provider is reachable', async () => {
    const { h, server } = await setup('anthropic');
    server.enqueue({ kind: 'http_error', status: 503, type: 'api_error' });
    const user = h.send('are you back?');
    await h.service.idle();
    expect(h.store.getMessage(user.id)?.status).toBe('failed');
    h.service.retry(user.id);
    await h.service.idle();
    const history = h.service.history(h.session.id);
    // The empty failed answer is reused, not left behind.
    expect(history.map((m) => [m.role, m.status, m.text])).toEqual([
      ['user', 'done', 'are you back?'],
      ['assistant', 'done', 'Echo: are you back?'],
    ]);
    expect(history[1]!.error).toBeNull();
  });

  it('refuses to retry an assistant message or an unknown id', async () => {
    const { h } = await setup('anthropic');
    h.send('hi');
    await h.service.idle();
    const answer = firstAnswer(h)!;
    expect(() => h.service.retry(answer.id)).toThrow(/Only a user message/);
    expect(() => h.service.retry('nope')).toThrow(/not found/);
  });
});
