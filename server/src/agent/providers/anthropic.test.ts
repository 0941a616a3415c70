import { describe, expect, it, vi } from 'vitest';
import { trace, type Tracer, type TracerProvider } from '@opentelemetry/api';
import Anthropic from '@anthropic-ai/sdk';
import { AppError } from '@autoclaw/shared';
import { startAnthropicWireServer } from '../../testing/anthropic-wire-server';
import { collectEvents, textOf } from '../../testing/collect-events';
import { createAnthropicProvider, toAnthropicMessages } from './anthropic';
import { streamWithRetry } from './retry';
import { itUsesItsOwnTransport, providerTestKit } from './test-provider-kit';
import type { ProviderMessage } from './types';

const KEY = 'sk-ant-test-key-1234567890';
const { setup, request, recordedBody, track } = providerTestKit((opts) => startAnthropicWireServer({ apiKey: KEY, ...opts }), (baseURL) => createAnthropicProvider({ apiKey: KEY, baseURL }), 'claude-test');

describe('Anthropic provider over the real SDK', () => {
  itUsesItsOwnTransport({ setup, request, recordedBody, track });

  it('starts no OpenTelemetry span and sends no trace context, even with a tracer provider registered', async () => {
    const started: string[] = [];
    // Records each span's name; the span it returns carries a sampled context (as a real tracer's would).
    const tracer = {
      startSpan: (name: string) => (started.push(name), trace.wrapSpanContext({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 1 })),
      startActiveSpan: () => {
        throw new Error('not used by the SDK');
      },
    } as unknown as Tracer; // the SDK calls startSpan only
    const tracerProvider: TracerProvider = { getTracer: () => tracer };
    expect(trace.setGlobalTracerProvider(tracerProvider)).toBe(true);
    try {
      const { server: s, provider } = await setup();
      expect((await collectEvents(provider.stream(request('hi')))).error).toBeUndefined();
      expect(started).toEqual([]);
      expect(s.requests[0]?.headers.traceparent).toBeUndefined();
      // The same SDK with its defaults does start one: the provider above is the one it would use.
      const sdk = new Anthropic({ apiKey: KEY, baseURL: s.url, maxRetries: 0 });
      for await (const _event of await sdk.messages.create({ model: 'claude-test', max_tokens: 16, stream: true, messages: [{ role: 'user', content: 'hi' }] })) void _event;
      expect(started).toEqual(['anthropic.messages.create']);
    } finally {
      trace.disable();
    }
  });

  it('streams text deltas word by word, then one usage and one done; pings are ignored', async () => {
    const { server: s, provider } = await setup();
    s.enqueue({ kind: 'text', text: 'Hello there, world' });
    const { events, error } = await collectEvents(provider.stream(request('hi')));
    expect(error).toBeUndefined();
    expect(events.filter((e) => e.type === 'text').map((e) => (e as { text: string }).text)).toEqual(['Hello ', 'there, ', 'world']);
    expect(events.map((e) => e.type)).toEqual(['text', 'text', 'text', 'usage', 'done']);
    expect(events.at(-1)).toEqual({ type: 'done', stopReason: 'end_turn' });

    const recorded = s.requests[0];
    expect(recorded?.path).toBe('/v1/messages');
    expect(recorded?.headers['x-api-key'] ?? recorded?.headers.authorization).toMatch(new RegExp(`^(Bearer )?${KEY}$`));
    expect(recorded?.headers['anthropic-version']).toBeTruthy();
    expect(recorded?.headers['content-type']).toBe('application/json');
    expect(recorded?.body).toMatchObject({
      model: 'claude-test',
      max_tokens: 256,
      stream: true,
      system: 'You are helpful.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
    });
  });

  it('assembles tool_use input from input_json_delta fragments split across 7-byte TCP writes', async () => {
    const { server: s, provider } = await setup({ maxChunkBytes: 7 });
    const input = { path: 'notes/é✓.txt', lines: [1, 2, 3], nested: { ok: true } };
    s.enqueue({ kind: 'tool_use', text: 'Let me write that.', calls: [{ id: 'toolu_1', name: 'write_file', input }, { id: 'toolu_2', name: 'current_time', input: {} }] });
    const tools = [{ name: 'write_file', description: 'Writes a file', inputSchema: { type: 'object', properties: { path: { type: 'string' } } } }];
    const { events, error } = await collectEvents(provider.stream(request('write', { tools })));
    expect(error).toBeUndefined();
    expect(textOf(events)).toBe('Let me write that.');
    expect(events.filter((e) => e.type === 'tool_call')).toEqual([
      { type: 'tool_call', id: 'toolu_1', name: 'write_file', input },
      { type: 'tool_call', id: 'toolu_2', name: 'current_time', input: {} },
    ]);
    expect(events.at(-1)).toEqual({ type: 'done', stopReason: 'tool_use' });
    expect(recordedBody(s, 0).tools).toEqual([{ name: 'write_file', description: 'Writes a file', input_schema: tools[0]?.inputSchema }]);
  });

  it('reports usage with cache read and cache write tokens', async () => {
    const { server: s, provider } = await setup();
    s.enqueue({ kind: 'text', text: 'ok', usage: { input: 12, output: 7, cacheRead: 300, cacheWrite: 45 } });
    const { events } = await collectEvents(provider.stream(request('hi')));
    expect(events.filter((e) => e.type === 'usage')).toEqual([
      { type: 'usage', usage: { inputTokens: 12, outputTokens: 7, cacheReadTokens: 300, cacheWriteTokens: 45 } },
    ]);
  });

  it('turns a mid-stream error event into PROVIDER_UNAVAILABLE after yielding the text and the usage', async () => {
    const { server: s, provider } = await setup();
    s.enqueue({ kind: 'midstream_error', textBefore: 'Partial answer ' });
    const { events, error } = await collectEvents(provider.stream(request('hi')));
    expect(textOf(events)).toBe('Partial answer ');
    expect(events.at(-1)?.type).toBe('usage');
    expect(AppError.is(error, 'PROVIDER_UNAVAILABLE')).toBe(true);
    expect(s.requests).toHaveLength(1);
  });

  it('maps 529 to PROVIDER_UNAVAILABLE with exactly one HTTP request (SDK retries are off)', async () => {
    const { server: s, provider } = await setup();
    s.enqueue({ kind: 'http_error', status: 529, retryAfter: '2' });
    const { error } = await collectEvents(provider.stream(request('hi')));
    expect(AppError.is(error, 'PROVIDER_UNAVAILABLE')).toBe(true);
    expect((error as AppError).details).toMatchObject({ status: 529, retryAfterMs: 2000, providerType: 'overloaded_error' });
    expect(s.requests).toHaveLength(1);
  });

  it('maps a bad key to PROVIDER_AUTH without the key in the message', async () => {
    const server = track(await startAnthropicWireServer({ apiKey: KEY }));
    const provider = createAnthropicProvider({ apiKey: 'sk-ant-wrong-key-000000', baseURL: server.url });
    const { error } = await collectEvents(provider.stream(request('hi')));
    expect(AppError.is(error, 'PROVIDER_AUTH')).toBe(true);
    expect((error as AppError).message).toBe('Anthropic rejected the API key — check it in Settings');
    expect(JSON.stringify({ m: (error as AppError).message, d: (error as AppError).details })).not.toContain('wrong-key');
    expect(server.requests).toHaveLength(1);
  });

  it('maps an unknown model to PROVIDER_MODEL_NOT_FOUND naming the model', async () => {
    const { server: s, provider } = await setup({ models: ['claude-known'] });
    const { error } = await collectEvents(provider.stream(request('hi', { model: 'claude-nope' })));
    expect(AppError.is(error, 'PROVIDER_MODEL_NOT_FOUND')).toBe(true);
    expect((error as AppError).message).toContain('"claude-nope"');
    expect(s.requests).toHaveLength(1);
  });

  it('maps 400 to PROVIDER_BAD_REQUEST with the provider message', async () => {
    const { server: s, provider } = await setup();
    s.enqueue({ kind: 'http_error', status: 400, message: 'prompt is too long' });
    const { error } = await collectEvents(provider.stream(request('hi')));
    expect(AppError.is(error, 'PROVIDER_BAD_REQUEST')).toBe(true);
    expect((error as AppError).message).toContain('prompt is too long');
  });

  it('cancels on abort: CANCELLED, and the server sees the client go', async () => {
    const { server: s, provider } = await setup();
    s.enqueue({ kind: 'hang', textBefore: 'Thinking about it ' });
    const controller = new AbortController();
    const { events, error } = await collectEvents(provider.stream(request('hi', { signal: controller.signal })), (event) => {
      if (event.type === 'text') controller.abort();
    });
    expect(events[0]).toEqual({ type: 'text', text: 'Thinking ' });
    expect(AppError.is(error, 'CANCELLED')).toBe(true);
    await vi.waitFor(() => expect(s.clientAborts).toBe(1));
    await vi.waitFor(() => expect(s.activeRequests).toBe(0));
  });

  it('honors retry-after on 429 through streamWithRetry (one request per attempt)', async () => {
    const { server: s, provider } = await setup();
    s.enqueue({ kind: 'http_error', status: 429, retryAfter: '3' }, { kind: 'http_error', status: 429 }, { kind: 'text', text: 'finally' });
    const delays: number[] = [];
    const retries: string[] = [];
    const { events, error } = await collectEvents(
      streamWithRetry(provider, request('hi'), {
        sleep: async (ms) => {
          delays.push(ms);
        },
        random: () => 0.5,
        baseDelayMs: 500,
        onRetry: (info) => retries.push(`${info.attempt}:${info.error.code}`),
      }),
    );
    expect(error).toBeUndefined();
    expect(textOf(events)).toBe('finally');
    expect(delays).toEqual([3000, 500]); // max(retry-after 3 s, jitter) then 0.5 × 1000 ms backoff
    expect(retries).toEqual(['1:PROVIDER_RATE_LIMITED', '2:PROVIDER_RATE_LIMITED']);
    expect(s.requests).toHaveLength(3);
  });

  it('reads an HTTP-date retry-after against the injected clock', async () => {
    const server = track(await startAnthropicWireServer());
    const now = Date.UTC(2030, 0, 1, 12, 0, 0);
    const provider = createAnthropicProvider({ apiKey: KEY, baseURL: server.url, now: () => now });
    server.enqueue({ kind: 'http_error', status: 429, retryAfter: new Date(now + 7000).toUTCString() });
    const { error } = await collectEvents(provider.stream(request('hi')));
    expect(AppError.is(error, 'PROVIDER_RATE_LIMITED')).toBe(true);
    expect((error as AppError).details?.retryAfterMs).toBe(7000);
  });

  it('continues after a mid-stream failure with prefill, never repeating text', async () => {
    const { server: s, provider } = await setup();
    s.enqueue({ kind: 'midstream_error', textBefore: 'The quick brown ' }, { kind: 'text', text: 'The quick brown fox jumps.' });
    const { events, error } = await collectEvents(streamWithRetry(provider, request('tell me'), { sleep: async () => {}, random: () => 0 }));
    expect(error).toBeUndefined();
    expect(textOf(events)).toBe('The quick brown fox jumps.');
    expect(events.filter((e) => e.type === 'usage')).toHaveLength(2);
    const messages = recordedBody(s, 1).messages as unknown[];
    // Prefill cannot end in whitespace: the prefix is trimmed and the restated space dropped.
    expect(messages.at(-1)).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'The quick brown' }] });
  });

  it('recovers from the default responder /fail-once with the answer shown exactly once', async () => {
    const { provider } = await setup();
    const { events, error } = await collectEvents(streamWithRetry(provider, request('hello /fail-once'), { sleep: async () => {}, random: () => 0 }));
    expect(error).toBeUndefined();
    expect(textOf(events)).toBe('Echo: hello /fail-once');
  });

  it('sends tool results in the API shape and gets the default responder answer', async () => {
    const { server: s, provider } = await setup();
    const history: ProviderMessage[] = [
      { role: 'user', content: [{ type: 'text', text: 'what time is it?' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 'toolu_9', name: 'current_time', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', toolUseId: 'toolu_9', content: '12:00', isError: false }] },
    ];
    const { events } = await collectEvents(provider.stream(request(history)));
    expect(textOf(events)).toBe('Tool current_time returned: 12:00');
    expect((recordedBody(s, 0).messages as unknown[]).slice(1)).toEqual([
      { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 'toolu_9', name: 'current_time', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_9', content: '12:00', is_error: false }] },
    ]);
  });

  it('reports a connection failure as PROVIDER_UNAVAILABLE', async () => {
    const s = await startAnthropicWireServer();
    const url = s.url;
    await s.close();
    const provider = createAnthropicProvider({ apiKey: KEY, baseURL: url });
    const { error } = await collectEvents(provider.stream(request('hi')));
    expect(AppError.is(error, 'PROVIDER_UNAVAILABLE')).toBe(true);
    expect((error as AppError).message).toContain('Could not reach Anthropic');
  });
});

describe('toAnthropicMessages', () => {
  it('with a cache, converts a message (and a content array) once and gives the same result', () => {
    const content = [{ type: 'text' as const, text: 'hello' }];
    const answer = [{ type: 'text' as const, text: 'hi there ' }];
    const messages: ProviderMessage[] = [
      { role: 'user', content },
      { role: 'assistant', content: answer },
    ];
    const cache = { content: new WeakMap(), messages: new WeakMap() };
    const first = toAnthropicMessages(messages, cache);
    const second = toAnthropicMessages(messages, cache);
    expect(first).toEqual(toAnthropicMessages(messages));
    expect(second).toEqual(first);
    // The same message object: the same API message, not a new conversion.
    expect(second.messages[0]).toBe(first.messages[0]);
    // A new message over the same content array reuses its blocks.
    const again = toAnthropicMessages([{ role: 'user', content }, ...messages], cache);
    expect(again.messages[0]).not.toBe(first.messages[0]);
    expect(again.messages[0]?.content).toBe(first.messages[0]?.content);
    // A tool-using answer at the end is no prefill: it goes through the cache like any message.
    const toolUse: ProviderMessage = { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'current_time', input: {} }] };
    expect(toAnthropicMessages([...messages, toolUse], cache).messages.at(-1)).toBe(toAnthropicMessages([toolUse], cache).messages[0]);
    // The trailing assistant message is prefill: trimmed each time, never served from the cache trimmed.
    expect(second.messages[1]?.content).toEqual([{ type: 'text', text: 'hi there' }]);
    expect(second.repeat).toBe(' ');
  });

  it('trims a trailing prefix and returns the whitespace to drop', () => {
    const { messages, repeat } = toAnthropicMessages([
      { role: 'user', content: [{ type: 'text', text: 'hi' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Hello \n' }] },
    ]);
    expect(messages.at(-1)).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'Hello' }] });
    expect(repeat).toBe(' \n');
  });

  it('drops empty text blocks and an all-whitespace prefix', () => {
    const { messages } = toAnthropicMessages([
      { role: 'user', content: [{ type: 'text', text: '' }, { type: 'text', text: 'hi' }] },
      { role: 'assistant', content: [{ type: 'text', text: '  ' }] },
    ]);
    expect(messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'hi' }] }]);
  });
});
