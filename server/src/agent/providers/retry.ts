/**
 * The one retry policy for provider calls (the SDKs' own retries are off).
 * Retries rate limits and outages with capped exponential backoff and full
 * jitter, never shorter than the provider's `retry-after`. A retry after text
 * was shown continues from that text, so the user never sees it twice.
 */
import { AppError } from '@autoclaw/shared';
import { cancelledError } from './errors';
import type { Provider, ProviderEvent, ProviderMessage, ProviderRequest } from './types';

export interface RetryInfo {
  /** The attempt that failed (1-based). */
  attempt: number;
  delayMs: number;
  error: AppError;
}

export interface RetryOptions {
  /** Attempts in all, the first included (default 4). */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  onRetry?: (info: RetryInfo) => void;
}

const RETRYABLE = new Set(['PROVIDER_RATE_LIMITED', 'PROVIDER_UNAVAILABLE']);

/** Waits `ms`, or rejects with CANCELLED as soon as `signal` aborts (no timer left behind). */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(cancelledError());
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(cancelledError());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Delay before the retry that follows failed attempt `attempt` (1-based). */
export function retryDelayMs(
  attempt: number,
  error: AppError,
  opts: { baseDelayMs: number; maxDelayMs: number; random: () => number },
): number {
  const exponential = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.floor(opts.random() * exponential);
  const retryAfter = typeof error.details?.retryAfterMs === 'number' ? error.details.retryAfterMs : 0;
  return Math.min(opts.maxDelayMs, Math.max(retryAfter, jittered));
}

/**
 * `request` with `shown` appended to the answer: the trailing assistant
 * message (the request's own prefix, if any) is extended, or one is added.
 */
export function withContinuation(request: ProviderRequest, shown: string): ProviderRequest {
  const last = request.messages.at(-1);
  const base = last?.role === 'assistant' ? request.messages.slice(0, -1) : request.messages;
  const prefix = last?.role === 'assistant' ? last.content.map((part) => (part.type === 'text' ? part.text : '')).join('') : '';
  const continuation: ProviderMessage = { role: 'assistant', content: [{ type: 'text', text: prefix + shown }] };
  return { ...request, messages: [...base, continuation] };
}

export async function* streamWithRetry(
  provider: Provider,
  request: ProviderRequest,
  opts: RetryOptions = {},
): AsyncGenerator<ProviderEvent> {
  const maxAttempts = Math.max(1, opts.maxAttempts ?? 4);
  const delays = { baseDelayMs: opts.baseDelayMs ?? 500, maxDelayMs: opts.maxDelayMs ?? 20_000, random: opts.random ?? Math.random };
  const sleep = opts.sleep ?? abortableSleep;
  let shown = '';

  for (let attempt = 1; ; attempt++) {
    const attemptRequest = shown.length > 0 ? withContinuation(request, shown) : request;
    // Tool calls wait for `done`: a failed attempt's calls must never run.
    const toolCalls: ProviderEvent[] = [];
    let failure: unknown;
    try {
      for await (const event of provider.stream(attemptRequest)) {
        if (event.type === 'text') {
          shown += event.text;
          yield event;
        } else if (event.type === 'tool_call') {
          toolCalls.push(event);
        } else if (event.type === 'usage') {
          yield event;
        } else {
          yield* toolCalls;
          yield event;
          return;
        }
      }
      failure = new AppError('PROVIDER_UNAVAILABLE', `The ${provider.id} answer ended without finishing — try again shortly`);
    } catch (error) {
      failure = error;
    }
    if (!(failure instanceof AppError) || !RETRYABLE.has(failure.code) || attempt >= maxAttempts) throw failure;
    if (request.signal.aborted) throw cancelledError();
    const delayMs = retryDelayMs(attempt, failure, delays);
    opts.onRetry?.({ attempt, delayMs, error: failure });
    await sleep(delayMs, request.signal);
    if (request.signal.aborted) throw cancelledError();
  }
}
