import { describe, expect, it, vi } from 'vitest';
import { AppError } from '@autoclaw/shared';
import { collectEvents, textOf } from '../../testing/collect-events';
import { startOpenAIWireServer } from '../../testing/openai-wire-server';
import { createOpenAIProvider, toOpenAIMessages } from './openai';
import { streamWithRetry } from './retry';
import { itUsesItsOwnTransport, providerTestKit } from './test-provider-kit';
import type { ProviderMessage } from './types';

const KEY = 'sk-proj-test-key-abcdefghij';
const { setup, request, recordedBody, track } = providerTestKit((opts) => startOpenAIWireServer({ apiKey: KEY, ...opts }), (baseURL) => createOpenAIProvider({ id: 'openai', apiKey: KEY, baseURL }), 'gpt-test');

describe('OpenAI provider over the real SDK', () => {
  itUsesItsOwnTransport({ setup, request, recordedBody, track });

  it('streams content deltas, reads the usage chunk, stops at [DONE]', async () => {
    const { server: s, provider } = await setup();
    s.enqueue({ kind: 'text', text: 'Hello there, world' });
    const { events, error } = await collectEvents(provider.stream(request('hi')));
    expect(error).toBeUndefined();
    expect(events.map((e) => e.type)).toEqual(['text', 'text', 'text', 'usage', 'done']);
    expect(textOf(events)).toBe('Hello there, world');
    expect(events.at(-1)).toEqual({ type: 'done', stopReason: 'end_turn' });

    const recorded = s.requests[0];
    expect(recorded?.path).toBe('/v1/chat/completions');
    expect(recorded?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(recorded?.body).toMatchObject({
      model: 'gpt-test',
      stream: true,
      stream_options: { include_usage: true },
      max_completion_tokens: 256,
      messages: [
        { role: 'system', content: 'You are helpful.' },
        { role: 'user', content: 'hi' },
      ],
    });
  });

  it('assembles tool_calls deltas by index across 5-byte TCP writes', async () => {
    const { server: s, provider } = await setup({ maxChunkBytes: 5 });
    const input = { path: 'notes/é✓.txt', lines: [1, 2, 3] };
    s.enqueue({ kind: 'tool_use', text: 'On it.', calls: [{ id: 'call_a', name: 'write_file', input }, { id: 'call_b', name: 'current_time', input: {} }] });
    const tools = [{ name: 'write_file', description: 'Writes a file', inputSchema: { type: 'object' } }];
    const { events, error } = await collectEvents(provider.stream(request('write', { tools })));
    expect(error).toBeUndefined();
    expect(textOf(events)).toBe('On it.');
    expect(events.filter((e) => e.type === 'tool_call')).toEqual([
      { type: 'tool_call', id: 'call_a', name: 'write_file', input },
      { type: 'tool_call', id: 'call_b', name: 'current_time', input: {} },
    ]);
    expect(events.at(-1)).toEqual({ type: 'done', stopReason: 'tool_use' });
    expect(recordedBody(s, 0).tools).toEqual([
      { type: 'function', function: { name: 'write_file', description: 'Writes a file', parameters: { type: 'object' } } },
    ]);
  });

  it('splits prompt tokens into uncached input and cache reads', async () => {
    const { server: s, provider } = await setup();
    s.enqueue({ kind: 'text', text: 'ok', usage: { input: 10, cacheRead: 90, output: 4 } });
    const { events } = await collectEvents(provider.stream(request('hi')));
    expect(s.requests).toHaveLength(1);
    expect(events.filter((e) => e.type === 'usage')).toEqual([
      { type: 'usage', usage: { inputTokens: 10, outputTokens: 4, cacheReadTokens: 90, cacheWriteTokens: 0 } },
    ]);
  });

  it('turns a connection cut mid-stream into PROVIDER_UNAVAILABLE', async () => {
    const { server: s, provider } = await setup();
    s.enqueue({ kind: 'midstream_error', textBefore: 'Partial answer ' });
    const { events, error } = await collectEvents(provider.stream(request('hi')));
    expect(textOf(events)).toBe('Partial answer ');
    expect(events.some((e) => e.type === 'usage' || e.type === 'done')).toBe(false);
    expect(AppError.is(error, 'PROVIDER_UNAVAILABLE')).toBe(true);
    expect(s.requests).toHaveLength(1);
  });

  it.each([500, 503])('maps %i to PROVIDER_UNAVAILABLE with one HTTP request', async (status) => {
    const { server: s, provider } = await setup();
    s.enqueue({ kind: 'http_error', status });
    const { error } = await collectEvents(provider.stream(request('hi')));
    expect(AppError.is(error, 'PROVIDER_UNAVAILABLE')).toBe(true);
    expect(s.requests).toHaveLength(1);
  });

  it('maps a bad key to PROVIDER_AUTH without the key in the message', async () => {
    const server = track(await startOpenAIWireServer({ apiKey: KEY }));
    const provider = createOpenAIProvider({ id: 'openai', apiKey: 'sk-wrong-key-0000000', baseURL: server.url });
    const { error } = await collectEvents(provider.stream(request('hi')));
    expect(AppError.is(error, 'PROVIDER_AUTH')).toBe(true);
    expect((error as AppError).message).toBe('OpenAI rejected the API key — check it in Settings');
    expect(JSON.stringify({ m: (error as AppError).message, d: (error as AppError).details })).not.toContain('wrong-key');
    expect(server.requests).toHaveLength(1);
  });

  it('maps model_not_found to PROVIDER_MODEL_NOT_FOUND naming the model', async () => {
    const { provider } = await setup({ models: ['gpt-known'] });
    const { error } = await collectEvents(provider.stream(request('hi', { model: 'gpt-nope' })));
    expect(AppError.is(error, 'PROVIDER_MODEL_NOT_FOUND')).toBe(true);
    expect((error as AppError).message).toContain('"gpt-nope"');
  });

  it('treats insufficient_quota 429 as a bad request that is not retried', async () => {
    const { server: s, provider } = await setup();
    s.enqueue({ kind: 'http_error', status: 429, type: 'insufficient_quota', message: 'You exceeded your current quota' });
    const { error } = await collectEvents(streamWithRetry(provider, request('hi'), { sleep: async () => {} }));
    expect(AppError.is(error, 'PROVIDER_BAD_REQUEST')).toBe(true);
    expect(s.requests).toHaveLength(1);
  });

  it('honors retry-after on 429 through streamWithRetry', async () => {
    const { server: s, provider } = await setup();
    s.enqueue({ kind: 'http_error', status: 429, retryAfter: '4' }, { kind: 'text', text: 'done now' });
    const delays: number[] = [];
    const { events, error } = await collectEvents(
      streamWithRetry(provider, request('hi'), { sleep: async (ms) => void delays.push(ms), random: () => 0.99 }),
    );
    expect(error).toBeUndefined();
    expect(textOf(events)).toBe('done now');
    expect(delays).toEqual([4000]);
    expect(s.requests).toHaveLength(2);
  });

  it('cancels on abort: CANCELLED, and the server sees the client go', async () => {
    const { server: s, provider } = await setup();
    s.enqueue({ kind: 'hang', textBefore: 'Thinking about it ' });
    const controller = new AbortController();
    const { error } = await collectEvents(provider.stream(request('hi', { signal: controller.signal })), (event) => {
      if (event.type === 'text') controller.abort();
    });
    expect(AppError.is(error, 'CANCELLED')).toBe(true);
    await vi.waitFor(() => expect(s.clientAborts).toBe(1));
    await vi.waitFor(() => expect(s.activeRequests).toBe(0));
  });

  it('continues after a cut: the restated prefix is stripped, nothing is shown twice', async () => {
    const { server: s, provider } = await setup();
    s.enqueue({ kind: 'midstream_error', textBefore: 'The quick brown ' }, { kind: 'text', text: 'The quick brown fox jumps.' });
    const { events, error } = await collectEvents(streamWithRetry(provider, request('tell me'), { sleep: async () => {}, random: () => 0 }));
    expect(error).toBeUndefined();
    expect(textOf(events)).toBe('The quick brown fox jumps.');
    expect((recordedBody(s, 1).messages as unknown[]).at(-1)).toEqual({ role: 'assistant', content: 'The quick brown ' });
  });

  it('keeps a continuation that does not restate the prefix', async () => {
    const { server: s, provider } = await setup();
    s.enqueue({ kind: 'text', text: 'fox jumps.' });
    const history: ProviderMessage[] = [
      { role: 'user', content: [{ type: 'text', text: 'tell me' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'The quick brown ' }] },
    ];
    const { events } = await collectEvents(provider.stream(request(history)));
    expect(textOf(events)).toBe('fox jumps.');
  });

  it('recovers from the default responder /fail-once with the answer shown exactly once', async () => {
    const { provider } = await setup();
    const { events, error } = await collectEvents(streamWithRetry(provider, request('hello there /fail-once'), { sleep: async () => {}, random: () => 0 }));
    expect(error).toBeUndefined();
    expect(textOf(events)).toBe('Echo: hello there /fail-once');
  });

  it('sends tool uses as tool_calls and results as tool messages', async () => {
    const { server: s, provider } = await setup();
    const history: ProviderMessage[] = [
      { role: 'user', content: [{ type: 'text', text: 'what time is it?' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'call_9', name: 'current_time', input: { tz: 'UTC' } }] },
      { role: 'user', content: [{ type: 'tool_result', toolUseId: 'call_9', content: '12:00', isError: false }] },
    ];
    const { events } = await collectEvents(provider.stream(request(history)));
    expect(textOf(events)).toBe('Tool current_time returned: 12:00');
    expect((recordedBody(s, 0).messages as unknown[]).slice(2)).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'current_time', arguments: '{"tz":"UTC"}' } }] },
      { role: 'tool', tool_call_id: 'call_9', content: '12:00' },
    ]);
  });

  it('talks to an OpenAI-compatible server without a key (no Authorization header, max_tokens)', async () => {
    const server = track(await startOpenAIWireServer());
    const provider = createOpenAIProvider({ id: 'openai-compatible', baseURL: server.url });
    expect(provider.id).toBe('openai-compatible');
    const { events, error } = await collectEvents(provider.stream(request('local model')));
    expect(error).toBeUndefined();
    expect(textOf(events)).toBe('Echo: local model');
    expect(server.requests[0]?.headers.authorization).toBeUndefined();
    expect(server.requests[0]?.body).toMatchObject({ max_tokens: 256 });
    expect(server.requests[0]?.body).not.toHaveProperty('max_completion_tokens');
  });

  it('names the compatible server in its errors', async () => {
    const server = track(await startOpenAIWireServer({ models: ['llama'] }));
    const provider = createOpenAIProvider({ id: 'openai-compatible', baseURL: server.url });
    const { error } = await collectEvents(provider.stream(request('hi', { model: 'mistral' })));
    expect(AppError.is(error, 'PROVIDER_MODEL_NOT_FOUND')).toBe(true);
    expect((error as AppError).message).toContain('The OpenAI-compatible server does not know the model "mistral"');
  });
});

describe('toOpenAIMessages', () => {
  it('puts tool results before the user text of the same turn and marks errors', () => {
    const { messages, repeat } = toOpenAIMessages('', [
      {
        role: 'user',
        content: [
          { type: 'tool_result', toolUseId: 'c1', content: 'boom', isError: true },
          { type: 'text', text: 'and also' },
        ],
      },
    ]);
    expect(messages).toEqual([
      { role: 'tool', tool_call_id: 'c1', content: 'Error: boom' },
      { role: 'user', content: 'and also' },
    ]);
    expect(repeat).toBe('');
  });

  it('keeps separate user messages apart and the pieces of one answer together', () => {
    const { messages, repeat } = toOpenAIMessages('', [
      { role: 'user', content: [{ type: 'text', text: 'hello before the key' }, { type: 'text', text: 'hello world' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Hel' }, { type: 'text', text: 'lo' }] },
    ]);
    expect(messages).toEqual([
      { role: 'user', content: 'hello before the key\n\nhello world' },
      { role: 'assistant', content: 'Hello' },
    ]);
    expect(repeat).toBe('Hello');
  });

  it('with a cache, converts a message once and gives the same result', () => {
    const messages: ProviderMessage[] = [
      { role: 'user', content: [{ type: 'text', text: 'what time is it?' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'c1', name: 'current_time', input: { tz: 'UTC' } }] },
      { role: 'user', content: [{ type: 'tool_result', toolUseId: 'c1', content: '09:00', isError: false }] },
      { role: 'assistant', content: [{ type: 'text', text: 'It is nine' }] },
    ];
    const cache = new WeakMap();
    const first = toOpenAIMessages('sys', messages, cache);
    const second = toOpenAIMessages('sys', messages, cache);
    expect(first).toEqual(toOpenAIMessages('sys', messages));
    expect(second).toEqual(first);
    expect(second.messages[2]).toBe(first.messages[2]);
    // The answer is the repeat only while it ends the list.
    expect(second.repeat).toBe('It is nine');
    expect(toOpenAIMessages('', [...messages, { role: 'user', content: [{ type: 'text', text: 'thanks' }] }], cache).repeat).toBe('');
  });
});
