/**
 * Small helpers of the channels that serve inbound HTTP (webhooks, messaging
 * endpoints): a constant-time secret check, refusals in the gateway's error
 * shape, a JSON body read, a bearer token taken from its header, and an
 * abortable sleep for keep-alive loops.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { ChannelHttpRequest, ChannelHttpResponse, ChannelStateStore } from './types';

export function sameSecret(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function refused(message: string, status = 401): ChannelHttpResponse {
  return { status, body: { error: { code: status === 401 ? 'UNAUTHORIZED' : status === 403 ? 'FORBIDDEN' : 'BAD_REQUEST', message } } };
}

/** The request's JSON body, or null when it is not JSON. */
export function jsonBody<T>(request: ChannelHttpRequest): T | null {
  try {
    return JSON.parse(request.body.toString('utf8')) as T;
  } catch {
    return null;
  }
}

export function bearerOf(request: ChannelHttpRequest): string | null {
  const header = request.headers['authorization'];
  const value = Array.isArray(header) ? header[0] : header;
  const match = /^Bearer\s+(\S+)$/i.exec(value ?? '');
  return match?.[1] ?? null;
}

export const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** The channel's webhook secret under `key` (made once, kept encrypted in the store). */
export function webhookSecret(state: ChannelStateStore, key: string): string {
  const stored = state.getSecret(key);
  if (stored) return stored;
  const made = randomBytes(24).toString('base64url');
  state.setSecret(key, made);
  return made;
}

/**
 * The exports of a CommonJS package loaded by `import()`: in the split,
 * minified server bundle its named exports sit on `default` only.
 */
export function commonJs<T extends object>(mod: T): T {
  const inner = (mod as { default?: unknown }).default;
  return inner !== null && typeof inner === 'object' ? ({ ...mod, ...inner } as T) : mod;
}
