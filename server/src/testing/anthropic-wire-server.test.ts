import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { startAnthropicWireServer } from './anthropic-wire-server';
import type { WireServerHandle } from './wire-server-base';

let server: WireServerHandle | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const HEADERS = { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2023-06-01' };
const body = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ model: 'claude-test', max_tokens: 32, messages: [{ role: 'user', content: 'hi there' }], ...over });

/** Parses an SSE body into [event, data] pairs. */
function frames(text: string): Array<[string, unknown]> {
  return text
    .split('\n\n')
    .filter((frame) => frame.trim().length > 0)
    .map((frame) => {
      const event = /^event: (.*)$/m.exec(frame)?.[1] ?? '';
      const data = /^data: (.*)$/m.exec(frame)?.[1] ?? 'null';
      return [event, JSON.parse(data) as unknown];
    });
}

describe('Anthropic wire server', () => {
  it('streams the documented event sequence with a ping and a request-id header', async () => {
    server = await startAnthropicWireServer();
    const res = await fetch(`${server.url}/v1/messages`, { method: 'POST', headers: HEADERS, body: body({ stream: true }) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    const events = frames(await res.text());
    expect(events.map(([name]) => name)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    for (const [name, data] of events) expect((data as { type: string }).type).toBe(name);
    expect(events[0]?.[1]).toMatchObject({ message: { usage: { cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } } });
  });

  it('stops a text reply at max_tokens with stop_reason max_tokens, streamed or not (real SDK)', async () => {
    server = await startAnthropicWireServer();
    const client = new Anthropic({ apiKey: 'k', baseURL: server.url, maxRetries: 0 });
    const long = 'one two three four five six seven';
    server.enqueue({ kind: 'text', text: long });
    const whole = await client.messages.create({ model: 'claude-test', max_tokens: 3, messages: [{ role: 'user', content: 'count' }] });
    expect(whole.content).toEqual([{ type: 'text', text: 'one two three ' }]);
    expect(whole.stop_reason).toBe('max_tokens');
    expect(whole.usage.output_tokens).toBe(3);

    server.enqueue({ kind: 'text', text: long });
    let text = '';
    let stop: string | null = null;
    for await (const event of await client.messages.create({ model: 'claude-test', max_tokens: 3, stream: true, messages: [{ role: 'user', content: 'count' }] })) {
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
      if (event.type === 'message_delta') stop = event.delta.stop_reason;
    }
    expect([text, stop]).toEqual(['one two three ', 'max_tokens']);

    // Within the limit: the whole text and end_turn.
    server.enqueue({ kind: 'text', text: long });
    const fits = await client.messages.create({ model: 'claude-test', max_tokens: 7, messages: [{ role: 'user', content: 'count' }] });
    expect([fits.content, fits.stop_reason]).toEqual([[{ type: 'text', text: long }], 'end_turn']);
  });

  it('answers non-streaming requests with a full message (real SDK)', async () => {
    server = await startAnthropicWireServer();
    const client = new Anthropic({ apiKey: 'k', baseURL: server.url, maxRetries: 0 });
    server.enqueue({ kind: 'tool_use', text: 'Sure.', calls: [{ id: 'toolu_x', name: 'current_time', input: { tz: 'UTC' } }] });
    const message = await client.messages.create({ model: 'claude-test', max_tokens: 32, messages: [{ role: 'user', content: 'time?' }] });
    expect(message.content).toEqual([
      { type: 'text', text: 'Sure.' },
      { type: 'tool_use', id: 'toolu_x', name: 'current_time', input: { tz: 'UTC' } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
  });

  it('refuses a missing anthropic-version header and an unknown path with documented bodies, recording both', async () => {
    server = await startAnthropicWireServer();
    const noVersion = await fetch(`${server.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body() });
    expect(noVersion.status).toBe(400);
    expect(await noVersion.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    const unknown = await fetch(`${server.url}/v1/nothing`, { method: 'POST', headers: HEADERS, body: '{}' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/messages', '/v1/nothing']);
  });

  it('sends 429 with retry-after and the rate_limit_error body', async () => {
    server = await startAnthropicWireServer();
    server.enqueue({ kind: 'http_error', status: 429, retryAfter: '12' });
    const res = await fetch(`${server.url}/v1/messages`, { method: 'POST', headers: HEADERS, body: body({ stream: true }) });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('12');
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  });

  it('default responder: summaries, /tool commands and /slow pacing', async () => {
    server = await startAnthropicWireServer();
    const client = new Anthropic({ apiKey: 'k', baseURL: server.url, maxRetries: 0 });
    const summary = await client.messages.create({
      model: 'm',
      max_tokens: 32,
      system: 'Summarize the conversation.',
      messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'user', content: 'c' }],
    });
    expect(summary.content).toEqual([{ type: 'text', text: 'Summary: 3 messages' }]);

    const tool = await client.messages.create({ model: 'm', max_tokens: 32, messages: [{ role: 'user', content: 'please /tool memory_save {"text":"milk"}' }] });
    expect(tool.content).toMatchObject([{ type: 'tool_use', name: 'memory_save', input: { text: 'milk' } }]);

    const started = performance.now();
    const slow = await client.messages.create({ model: 'm', max_tokens: 32, stream: true, messages: [{ role: 'user', content: 'one two /slow' }] });
    let text = '';
    for await (const event of slow) if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    expect(text).toBe('Echo: one two /slow');
    expect(performance.now() - started).toBeGreaterThanOrEqual(110); // 4 words, 3 gaps of 40 ms
  });

  it('close() ends a hanging stream and resolves', async () => {
    server = await startAnthropicWireServer();
    const res = await fetch(`${server.url}/v1/messages`, { method: 'POST', headers: HEADERS, body: body({ stream: true, messages: [{ role: 'user', content: 'wait /hang' }] }) });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('message_start');
    expect(server.activeRequests).toBe(1);
    await server.close();
    await expect((async () => { for (;;) { const chunk = await reader.read(); if (chunk.done) return 'ended'; } })()).rejects.toThrow();
    expect(server.activeRequests).toBe(0);
  });
});
