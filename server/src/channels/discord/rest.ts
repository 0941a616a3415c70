/**
 * Discord's REST API, the part the channel uses, on the channels' small HTTP
 * client: bot-token auth, JSON and multipart bodies, and the rate limits
 * Discord announces — a route whose `X-RateLimit-Remaining` reached 0 waits
 * `X-RateLimit-Reset-After` before its next request; a 429 blocks the route
 * (or everything, when global) for `retry_after` and fails with
 * RATE_LIMITED so the outbound queue retries exactly then.
 */
import { AppError } from '@autoclaw/shared';
import type { HttpClient, HttpResponse } from '../http-client';
import { multipartBody } from '../multipart-body';
import { platformError } from '../platform-error';

/** A wait longer than this is not waited in place: the caller gets RATE_LIMITED. */
const MAX_INLINE_WAIT_MS = 5_000;

export interface DiscordRest {
  get<T>(route: string, signal?: AbortSignal): Promise<T>;
  post<T>(route: string, body: unknown, opts?: { signal?: AbortSignal; files?: Array<{ name: string; data: Uint8Array }>; auth?: boolean }): Promise<T>;
  patch<T>(route: string, body: unknown, signal?: AbortSignal): Promise<T>;
}

/** Major parameters stay in the bucket key (a channel's limits are its own); message ids do not. */
function bucketOf(method: string, route: string): string {
  return `${method} ${route.replace(/\/messages\/\d+/, '/messages/:id').replace(/^\/interactions\/.*/, '/interactions')}`;
}


const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export function createDiscordRest(opts: { apiRoot: string; token: string; http: HttpClient; now?: () => number }): DiscordRest {
  const now = opts.now ?? Date.now;
  const base = `${opts.apiRoot.replace(/\/+$/, '')}/v10`;
  const blocked = new Map<string, number>();
  let globalUntil = 0;

  async function send<T>(method: string, route: string, body: unknown, o: { signal?: AbortSignal; files?: Array<{ name: string; data: Uint8Array }>; auth?: boolean } = {}): Promise<T> {
    const bucket = bucketOf(method, route);
    const wait = Math.max(blocked.get(bucket) ?? 0, globalUntil) - now();
    if (wait > MAX_INLINE_WAIT_MS) throw platformError('Discord', 429, 'rate limited', { retryAfterMs: wait });
    if (wait > 0) await sleep(wait, o.signal);

    const headers: Record<string, string> = { 'user-agent': 'DiscordBot (https://autoclaw.invalid, 0.1)' };
    if (o.auth !== false) headers['authorization'] = `Bot ${opts.token}`;
    let payload: string | Buffer | null = null;
    if (o.files && o.files.length > 0) {
      const form = multipartBody([
        { name: 'payload_json', value: JSON.stringify(body ?? {}), type: 'application/json' },
        ...o.files.map((file, i) => ({ name: `files[${i}]`, filename: file.name, data: file.data })),
      ]);
      payload = form.body;
      headers['content-type'] = form.type;
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    let res: HttpResponse;
    try {
      res = await opts.http.fetch(`${base}${route}`, { method, headers, body: payload, signal: o.signal ?? null });
    } catch (err) {
      throw platformError('Discord', null, err instanceof Error ? err.message : String(err), { cause: err });
    }
    const remaining = res.headers.get('x-ratelimit-remaining');
    const resetAfter = Number(res.headers.get('x-ratelimit-reset-after'));
    if (remaining === '0' && Number.isFinite(resetAfter)) blocked.set(bucket, now() + resetAfter * 1000);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    const data = text.length > 0 ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (res.status === 429) {
      const seconds = Number(data['retry_after'] ?? res.headers.get('retry-after') ?? 1);
      const until = now() + seconds * 1000;
      if (data['global'] === true || res.headers.get('x-ratelimit-global') === 'true') globalUntil = until;
      else blocked.set(bucket, until);
      throw platformError('Discord', 429, String(data['message'] ?? 'rate limited'), { retryAfterMs: seconds * 1000 });
    }
    if (res.status === 401) throw new AppError('UNAUTHORIZED', 'Discord refused the bot token (401)');
    if (!res.ok) throw platformError('Discord', res.status, String(data['message'] ?? `HTTP ${res.status}`));
    return data as T;
  }

  return {
    get: (route, signal) => send('GET', route, undefined, signal ? { signal } : {}),
    post: (route, body, o) => send('POST', route, body, o),
    patch: (route, body, signal) => send('PATCH', route, body, signal ? { signal } : {}),
  };
}
