/**
 * A small HTTP client on node:http/https for the channels: what a platform
 * SDK's `fetch` option and our REST calls need (method, headers, a string,
 * bytes or streamed body, an abort signal; the response's status, headers
 * and body). Node's global fetch brings its own HTTP stack (undici) of some
 * 35 MB resident, and an idle gateway's memory is a per-user cost. One
 * client per channel run, with keep-alive agents that `close()` frees.
 */
import { request as httpRequest, Agent as HttpAgent, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';

/** The part of an AbortSignal used (polyfilled signals, as some SDKs make, work too). */
export interface SignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface HttpInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array | AsyncIterable<Uint8Array | string> | null;
  signal?: SignalLike | null;
  /** Largest response body read (default 50 MB). */
  maxBytes?: number;
}

export interface HttpResponse {
  status: number;
  ok: boolean;
  headers: IncomingHttpHeaders & { get(name: string): string | null };
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
  bytes(): Promise<Uint8Array>;
}

export interface HttpClient {
  fetch(url: string | URL, init?: HttpInit): Promise<HttpResponse>;
  /** Frees every kept-alive socket. */
  close(): void;
}

function abortError(): Error {
  return Object.assign(new Error('The request was aborted'), { name: 'AbortError' });
}

export function createHttpClient(): HttpClient {
  const agents = { http: new HttpAgent({ keepAlive: true, maxSockets: 8 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 8 }) };

  const fetch = (input: string | URL, init: HttpInit = {}): Promise<HttpResponse> =>
    new Promise((resolve, reject) => {
      const url = typeof input === 'string' ? new URL(input) : input;
      const secure = url.protocol === 'https:';
      const signal = init.signal ?? null;
      if (signal?.aborted) return reject(abortError());
      const headers: Record<string, string> = { ...(init.headers ?? {}) };
      const body = init.body ?? null;
      if (typeof body === 'string') headers['content-length'] = String(Buffer.byteLength(body));
      else if (body instanceof Uint8Array) headers['content-length'] = String(body.byteLength);
      const req = (secure ? httpsRequest : httpRequest)(url, { method: init.method ?? 'GET', headers, agent: secure ? agents.https : agents.http });
      const onAbort = () => req.destroy(abortError());
      signal?.addEventListener('abort', onAbort);
      const done = () => signal?.removeEventListener('abort', onAbort);
      req.once('error', (err) => {
        done();
        reject(err);
      });
      req.once('response', (res) => {
        const max = init.maxBytes ?? 50 * 1024 * 1024;
        let body: Promise<Buffer> | null = null;
        const read = () =>
          (body ??= new Promise<Buffer>((ok, fail) => {
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (chunk: Buffer) => {
              size += chunk.length;
              if (size > max) return res.destroy(new Error(`the response is larger than ${max} bytes`));
              chunks.push(chunk);
            });
            res.once('end', () => {
              done();
              ok(Buffer.concat(chunks));
            });
            res.once('error', (err) => {
              done();
              fail(err);
            });
            res.once('aborted', () => fail(abortError()));
          }));
        const status = res.statusCode ?? 0;
        const responseHeaders = Object.assign(Object.create(null) as IncomingHttpHeaders, res.headers, {
          get(name: string): string | null {
            const value = res.headers[name.toLowerCase()];
            return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
          },
        });
        resolve({
          status,
          ok: status >= 200 && status < 300,
          headers: responseHeaders,
          text: async () => (await read()).toString('utf8'),
          json: async () => JSON.parse((await read()).toString('utf8')) as unknown,
          arrayBuffer: async () => {
            const bytes = await read();
            return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
          },
          bytes: async () => new Uint8Array(await read()),
        });
      });
      if (body === null || typeof body === 'string' || body instanceof Uint8Array) {
        req.end(body ?? undefined);
        return;
      }
      void (async () => {
        try {
          for await (const chunk of body) {
            if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
          }
          req.end();
        } catch (err) {
          req.destroy(err instanceof Error ? err : new Error(String(err)));
        }
      })();
    });

  return {
    fetch,
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
