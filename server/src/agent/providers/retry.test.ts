import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '@autoclaw/shared';
import { startAnthropicWireServer } from '../../testing/anthropic-wire-server';
import { collectEvents, textOf } from '../../testing/collect-events';
import type { WireServerHandle } from '../../testing/wire-server-base';
import { createAnthropicProvider } from './anthropic';
import { abortableSleep, retryDelayMs, streamWithRetry, withContinuation } from './retry';
import type { Provider, ProviderEvent, ProviderRequest } from './types';

let server: WireServerHandle | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function request(signal = new AbortController().signal): ProviderRequest {
  return { model: 'claude-test', system: '', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], tools: [], maxTokens: 64, signal };
}

async function anthropic() {
  server = await startAnthropicWireServer();
  return { server, provider: createAnthropicProvider({ apiKey: 'k', baseURL: server.url }) };
}

/** A provider that plays one scripted attempt per call: its events, then optionally an error. */
function scriptedProvider(attempts: Array<{ events: ProviderEvent[]; error?: AppError }>): Provider & { requests: ProviderRequest[] } {
  const requests: ProviderRequest[] = [];
  return {
    id: 'anthropic',
    requests,
    async *stream(req) {
      requests.push(req);
      const attempt = attempts.shift();
      if (!attempt) throw new Error('no attempt scripted');
      yield* attempt.events;
      if (attempt.error) throw attempt.error;
    },
  };
}

const unavailable = (): AppError => new AppError('PROVIDER_UNAVAILABLE', 'down');
const noSleep = { sleep: async () => {}, random: () => 0 };

describe('retryDelayMs', () => {
  const opts = { baseDelayMs: 500, maxDelayMs: 20_000 };
  it('uses full jitter over a doubling window', () => {
    expect(retryDelayMs(1, unavailable(), { ...opts, random: () => 0.999 })).toBe(499);
    expect(retryDelayMs(3, unavailable(), { ...opts, random: () => 0.5 })).toBe(1000);
    expect(retryDelayMs(2, unavailable(), { ...opts, random: () => 0 })).toBe(0);
  });
  it('never waits less than retry-after, and caps everything at maxDelayMs', () => {
    const limited = new AppError('PROVIDER_RATE_LIMITED', 'slow down', { details: { retryAfterMs: 3000 } });
    expect(retryDelayMs(1, limited, { ...opts, random: () => 0.5 })).toBe(3000);
    expect(retryDelayMs(10, unavailable(), { ...opts, random: () => 0.999 })).toBe(19_980);
    const long = new AppError('PROVIDER_RATE_LIMITED', 'slow down', { details: { retryAfterMs: 90_000 } });
    expect(retryDelayMs(1, long, { ...opts, random: () => 0 })).toBe(20_000);
  });
});

describe('streamWithRetry', () => {
  it('gives up after maxAttempts and rethrows the last error (one HTTP request per attempt)', async () => {
    const { server: s, provider } = await anthropic();
    s.enqueue(...Array.from({ length: 3 }, () => ({ kind: 'http_error' as const, status: 529 })));
    const attempts: number[] = [];
    const { error } = await collectEvents(
      streamWithRetry(provider, request(), { ...noSleep, maxAttempts: 3, onRetry: (info) => attempts.push(info.attempt) }),
    );
    expect(AppError.is(error, 'PROVIDER_UNAVAILABLE')).toBe(true);
    expect(attempts).toEqual([1, 2]);
    expect(s.requests).toHaveLength(3);
  });

  it('does not retry errors that a retry cannot fix', async () => {
    const { server: s, provider } = await anthropic();
    s.enqueue({ kind: 'http_error', status: 400, message: 'bad' });
    const { error } = await collectEvents(streamWithRetry(provider, request(), noSleep));
    expect(AppError.is(error, 'PROVIDER_BAD_REQUEST')).toBe(true);
    expect(s.requests).toHaveLength(1);
  });

  it('stops waiting when the signal aborts during the backoff', async () => {
    const { server: s, provider } = await anthropic();
    s.enqueue({ kind: 'http_error', status: 529, retryAfter: '60' });
    const controller = new AbortController();
    const { error } = await collectEvents(
      streamWithRetry(provider, request(controller.signal), {
        maxDelayMs: 60_000,
        onRetry: () => setImmediate(() => controller.abort()),
      }),
    );
    expect(AppError.is(error, 'CANCELLED')).toBe(true);
    expect(s.requests).toHaveLength(1);
  });

  it('yields one usage per provider call, failed ones included', async () => {
    const { server: s, provider } = await anthropic();
    s.enqueue(
      { kind: 'midstream_error', textBefore: 'One ' },
      { kind: 'midstream_error', textBefore: 'One two ' },
      { kind: 'text', text: 'One two three', usage: { input: 5, output: 1 } },
    );
    const { events, error } = await collectEvents(streamWithRetry(provider, request(), noSleep));
    expect(error).toBeUndefined();
    expect(textOf(events)).toBe('One two three');
    expect(events.filter((e) => e.type === 'usage')).toHaveLength(3);
    // Each retry continues from everything shown so far.
    const prefixes = s.requests.slice(1).map((r) => ((r.body as { messages: Array<{ role: string; content: Array<{ text: string }> }> }).messages.at(-1)?.content[0]?.text));
    expect(prefixes).toEqual(['One', 'One two']);
  });

  it('drops the tool calls of a failed attempt and releases the good ones only at done', async () => {
    const provider = scriptedProvider([
      { events: [{ type: 'text', text: 'Let me ' }, { type: 'tool_call', id: 't1', name: 'write_file', input: { a: 1 } }], error: unavailable() },
      {
        events: [
          { type: 'text', text: 'check.' },
          { type: 'tool_call', id: 't2', name: 'current_time', input: {} },
          { type: 'usage', usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 } },
          { type: 'done', stopReason: 'tool_use' },
        ],
      },
    ]);
    const { events, error } = await collectEvents(streamWithRetry(provider, request(), noSleep));
    expect(error).toBeUndefined();
    expect(events.map((e) => (e.type === 'tool_call' ? `tool:${e.id}` : e.type))).toEqual(['text', 'text', 'usage', 'tool:t2', 'done']);
    expect(provider.requests[1]?.messages.at(-1)).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'Let me ' }] });
  });

  it('treats a stream that ends without done as a retryable failure', async () => {
    const provider = scriptedProvider([
      { events: [{ type: 'text', text: 'Half' }] },
      { events: [{ type: 'text', text: ' whole' }, { type: 'done', stopReason: 'end_turn' }] },
    ]);
    const { events, error } = await collectEvents(streamWithRetry(provider, request(), noSleep));
    expect(error).toBeUndefined();
    expect(textOf(events)).toBe('Half whole');
  });

  it('rethrows non-AppErrors without retrying', async () => {
    let calls = 0;
    const provider: Provider = {
      id: 'openai',
      // eslint-disable-next-line require-yield -- fails before its first event
      async *stream() {
        calls++;
        throw new TypeError('bug');
      },
    };
    const { error } = await collectEvents(streamWithRetry(provider, request(), noSleep));
    expect(error).toBeInstanceOf(TypeError);
    expect(calls).toBe(1);
  });
});

describe('withContinuation', () => {
  it('extends an existing assistant prefix instead of adding a second one', () => {
    const base = request();
    const withPrefix = { ...base, messages: [...base.messages, { role: 'assistant' as const, content: [{ type: 'text' as const, text: 'Once ' }] }] };
    expect(withContinuation(withPrefix, 'upon').messages).toEqual([
      ...base.messages,
      { role: 'assistant', content: [{ type: 'text', text: 'Once upon' }] },
    ]);
  });
});

describe('abortableSleep', () => {
  it('resolves after the delay and rejects with CANCELLED on abort', async () => {
    await expect(abortableSleep(1, new AbortController().signal)).resolves.toBeUndefined();
    const controller = new AbortController();
    const sleeping = abortableSleep(60_000, controller.signal);
    controller.abort();
    await expect(sleeping).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
