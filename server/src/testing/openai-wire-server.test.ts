import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { startOpenAIWireServer } from './openai-wire-server';
import type { WireServerHandle } from './wire-server-base';

let server: WireServerHandle | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const post = (url: string, payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
  fetch(`${url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer k', ...headers },
    body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], ...payload }),
  });

const dataLines = (text: string): string[] =>
  text.split('\n\n').filter((f) => f.startsWith('data: ')).map((f) => f.slice('data: '.length));

describe('OpenAI wire server', () => {
  it('streams chunks with usage: null, a final usage chunk with empty choices, then [DONE]', async () => {
    server = await startOpenAIWireServer();
    const res = await post(server.url, { stream: true, stream_options: { include_usage: true } });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const lines = dataLines(await res.text());
    expect(lines.at(-1)).toBe('[DONE]');
    const chunks = lines.slice(0, -1).map((l) => JSON.parse(l) as { object: string; choices: unknown[]; usage: unknown });
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks.slice(0, -1).every((c) => c.usage === null && c.choices.length === 1)).toBe(true);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens_details: { cached_tokens: 0 } } });
  });

  it('sends no usage chunk unless asked', async () => {
    server = await startOpenAIWireServer();
    const lines = dataLines(await (await post(server.url, { stream: true })).text());
    const chunks = lines.slice(0, -1).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(chunks.some((c) => 'usage' in c)).toBe(false);
  });

  it('answers non-streaming requests with a chat.completion (real SDK)', async () => {
    server = await startOpenAIWireServer({ apiKey: 'k' });
    const client = new OpenAI({ apiKey: 'k', baseURL: server.url, maxRetries: 0 });
    server.enqueue({ kind: 'tool_use', calls: [{ id: 'call_1', name: 'current_time', input: {} }] });
    const completion = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'time?' }] });
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(completion.choices[0]?.message.tool_calls).toEqual([{ id: 'call_1', type: 'function', function: { name: 'current_time', arguments: '{}' } }]);
  });

  it('uses the documented error bodies for a bad key, an unknown model and rate limits', async () => {
    server = await startOpenAIWireServer({ apiKey: 'k', models: ['gpt-test'] });
    const bad = await post(server.url, {}, { authorization: 'Bearer nope' });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
    const unknown = await post(server.url, { model: 'gpt-other' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'model_not_found' } });
    server.enqueue({ kind: 'http_error', status: 429, retryAfter: '1' });
    const limited = await post(server.url, {});
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(await limited.json()).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
  });
});
