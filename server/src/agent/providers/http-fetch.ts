/**
 * The provider SDKs' `fetch`, over node:http(s) with keep-alive agents.
 *
 * Both SDKs take a `fetch` option. Node's global fetch (undici) builds a
 * Request, a fetch controller and a web ReadableStream for each body in both
 * directions; a profile of 400 streamed turns put about a fifth of the
 * gateway's CPU in undici, its web streams and the text encoders around
 * them. This transport sends the JSON body in one write and hands the SDK
 * the response socket stream itself (an async iterable of bytes, which the
 * SDKs' SSE readers take as they are). Anything it does not carry (a
 * `Request` object, a stream or form body) goes to the global fetch.
 *
 * Fetch semantics kept: an aborted signal rejects (or ends the body) with an
 * `AbortError`; a network failure rejects with `TypeError('fetch failed')`
 * and the cause; headers are a `Headers`; redirects are not followed (the
 * provider APIs do not redirect, and a redirect must not carry the key).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

const IDLE_MS = 15_000;

export type FetchFn = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  return new DOMException('This operation was aborted', 'AbortError');
}

function headerRecord(headers: RequestInit['headers']): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  if (headers === undefined) return out;
  if (headers instanceof Headers) headers.forEach((value, name) => (out[name] = value));
  else if (Array.isArray(headers)) for (const [name, value] of headers as Array<[string, string]>) out[name.toLowerCase()] = value;
  else for (const [name, value] of Object.entries(headers as Record<string, string>)) out[name.toLowerCase()] = value;
  return out;
}

/** The part of `Response` the SDKs use, over a node response stream. */
class StreamedResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly redirected = false;
  readonly type = 'basic';
  #used = false;

  constructor(
    readonly url: string,
    readonly body: IncomingMessage,
  ) {
    this.status = body.statusCode ?? 0;
    this.ok = this.status >= 200 && this.status < 300;
    this.statusText = body.statusMessage ?? '';
    this.headers = new Headers();
    const raw = body.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) this.headers.append(raw[i] as string, raw[i + 1] as string);
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.#bytes();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async text(): Promise<string> {
    return (await this.#bytes()).toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  async #bytes(): Promise<Buffer> {
    if (this.#used) throw new TypeError('Body is unusable: Body has already been read');
    this.#used = true;
    const chunks: Buffer[] = [];
    for await (const chunk of this.body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
}

export interface HttpFetch {
  fetch: FetchFn;
  /** Closes the idle keep-alive sockets. */
  close(): void;
}

export function createHttpFetch(): HttpFetch {
  // An idle kept-alive socket is closed after IDLE_MS (the agent destroys a
  // free socket on its timeout; a request in flight only gets the event).
  const http = new HttpAgent({ keepAlive: true, timeout: IDLE_MS });
  const https = new HttpsAgent({ keepAlive: true, timeout: IDLE_MS });

  const fetchFn: FetchFn = (input, init = {}) => {
    const body = init.body;
    const simpleBody = body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
    if (input instanceof Request || !simpleBody) return fetch(input, init);
    const url = typeof input === 'string' ? new URL(input) : input;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return fetch(input, init);
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return Promise.reject(abortError(signal));

    return new Promise<Response>((resolve, reject) => {
      const headers = headerRecord(init.headers);
      // Encoded once, outside the JS heap; the length and the write use the same bytes.
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : (body ?? undefined);
      if (bytes !== undefined) headers['content-length'] = bytes.byteLength;
      const secure = url.protocol === 'https:';
      const req = (secure ? httpsRequest : httpRequest)(url, { method: init.method ?? 'GET', headers, agent: secure ? https : http });
      let response: IncomingMessage | null = null;
      const onAbort = (): void => {
        const error = abortError(signal as AbortSignal);
        if (response) response.destroy(error);
        else req.destroy(error);
      };
      const done = (): void => signal?.removeEventListener('abort', onAbort);
      signal?.addEventListener('abort', onAbort, { once: true });
      req.once('error', (error: Error) => {
        done();
        reject(error.name === 'AbortError' ? error : new TypeError('fetch failed', { cause: error }));
      });
      req.once('response', (res: IncomingMessage) => {
        response = res;
        res.once('close', done);
        resolve(new StreamedResponse(url.href, res) as unknown as Response); // the subset of Response the SDKs read (see class)
      });
      req.end(bytes);
    });
  };

  return {
    fetch: fetchFn,
    close() {
      http.destroy();
      https.destroy();
    },
  };
}
