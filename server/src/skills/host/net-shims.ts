/**
 * HTTP for skill code without sockets: `fetch` and `http(s).request` /
 * `get` send each request to the gateway over IPC, which checks it against
 * the skill's hosts and makes it. Libraries built on either (Octokit and
 * googleapis on fetch, node-fetch on http.request) work unchanged.
 */
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, OutgoingHttpHeaders, RequestOptions } from 'node:http';
import { Readable, Writable } from 'node:stream';
import type { EgressResponse } from '../egress/egress-fetch';

export type IpcFetch = (req: {
  url: string;
  method: string;
  headers: Array<[string, string]>;
  body: Uint8Array | null;
  redirect: 'follow' | 'manual' | 'error';
  signal: AbortSignal | null;
}) => Promise<EgressResponse>;

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

function abortError(): Error {
  return new DOMException('This operation was aborted', 'AbortError');
}

/** A WHATWG fetch over the IPC egress. */
export function makeFetch(send: IpcFetch): typeof fetch {
  return async function fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const request = new Request(input, init);
    const body = request.body ? new Uint8Array(await request.arrayBuffer()) : null;
    let res: EgressResponse;
    try {
      res = await send({
        url: request.url,
        method: request.method,
        headers: [...request.headers],
        body,
        redirect: request.redirect,
        signal: request.signal,
      });
    } catch (err) {
      if (request.signal.aborted) throw request.signal.reason ?? abortError();
      throw new TypeError('fetch failed', { cause: err });
    }
    const status = res.status >= 200 && res.status <= 599 ? res.status : 502;
    const empty = NULL_BODY.has(status) || request.method === 'HEAD';
    const response = new Response(empty ? null : res.body, { status, statusText: res.statusText, headers: res.headers });
    Object.defineProperty(response, 'url', { value: res.url });
    Object.defineProperty(response, 'redirected', { value: res.redirected });
    return response;
  } as typeof fetch;
}

function headerList(headers: OutgoingHttpHeaders | readonly string[] | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (!headers) return out;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) out.push([String(headers[i]), String(headers[i + 1])]);
    return out;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.push([name, String(v)]);
  }
  return out;
}

class IncomingShim extends Readable {
  statusCode: number;
  statusMessage: string;
  headers: IncomingHttpHeaders = {};
  rawHeaders: string[] = [];
  httpVersion = '1.1';
  httpVersionMajor = 1;
  httpVersionMinor = 1;
  trailers = {};
  rawTrailers: string[] = [];
  complete = false;
  url = '';
  method = null;

  constructor(res: EgressResponse) {
    super();
    this.statusCode = res.status;
    this.statusMessage = res.statusText;
    for (const [name, value] of res.headers) {
      this.rawHeaders.push(name, value);
      const key = name.toLowerCase();
      const prev = this.headers[key];
      if (key === 'set-cookie') this.headers[key] = [...(Array.isArray(prev) ? prev : []), value];
      else this.headers[key] = prev === undefined ? value : `${String(prev)}, ${value}`;
    }
    this.push(Buffer.from(res.body));
    this.push(null);
    this.once('end', () => {
      this.complete = true;
    });
  }

  override _read(): void {}

  setTimeout(_ms: number, cb?: () => void): this {
    if (cb) this.once('timeout', cb);
    return this;
  }
}

class ClientRequestShim extends Writable {
  readonly #url: URL;
  readonly #method: string;
  readonly #headers = new Map<string, { name: string; value: string[] }>();
  readonly #chunks: Buffer[] = [];
  readonly #send: IpcFetch;
  readonly #controller = new AbortController();
  #timer: ReturnType<typeof setTimeout> | null = null;
  aborted = false;
  reusedSocket = false;
  path: string;
  method: string;
  host: string;
  protocol: string;

  constructor(url: URL, method: string, headers: Array<[string, string]>, send: IpcFetch) {
    super();
    this.#url = url;
    this.#method = method;
    this.#send = send;
    this.path = `${url.pathname}${url.search}`;
    this.method = method;
    this.host = url.hostname;
    this.protocol = url.protocol;
    for (const [name, value] of headers) this.#add(name, value);
  }

  #add(name: string, value: string): void {
    const key = name.toLowerCase();
    const entry = this.#headers.get(key);
    if (entry) entry.value.push(value);
    else this.#headers.set(key, { name, value: [value] });
  }

  setHeader(name: string, value: string | number | readonly string[]): this {
    this.#headers.set(name.toLowerCase(), { name, value: (Array.isArray(value) ? value : [value]).map(String) });
    return this;
  }
  getHeader(name: string): string | string[] | undefined {
    const entry = this.#headers.get(name.toLowerCase());
    if (!entry) return undefined;
    return entry.value.length === 1 ? entry.value[0] : entry.value;
  }
  getHeaders(): Record<string, string | string[]> {
    return Object.fromEntries([...this.#headers].map(([k, v]) => [k, v.value.length === 1 ? v.value[0]! : v.value]));
  }
  hasHeader(name: string): boolean {
    return this.#headers.has(name.toLowerCase());
  }
  removeHeader(name: string): void {
    this.#headers.delete(name.toLowerCase());
  }
  flushHeaders(): void {}
  setNoDelay(): void {}
  setSocketKeepAlive(): void {}
  setTimeout(ms: number, cb?: () => void): this {
    if (cb) this.once('timeout', cb);
    if (this.#timer) clearTimeout(this.#timer);
    if (ms > 0) this.#timer = setTimeout(() => this.emit('timeout'), ms);
    return this;
  }
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.#controller.abort();
    this.emit('abort');
    this.destroy();
  }

  override _write(chunk: Buffer | string, encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk);
    cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    const body = this.#chunks.length > 0 ? new Uint8Array(Buffer.concat(this.#chunks)) : null;
    const headers: Array<[string, string]> = [];
    for (const { name, value } of this.#headers.values()) for (const v of value) headers.push([name, v]);
    // The request "finishes" with its answer: an error then surfaces as the request's 'error'.
    this.#send({ url: this.#url.href, method: this.#method, headers, body, redirect: 'manual', signal: this.#controller.signal }).then(
      (res) => {
        if (this.#timer) clearTimeout(this.#timer);
        if (this.aborted) return;
        this.emit('response', new IncomingShim(res));
        cb();
      },
      (err: unknown) => {
        if (this.#timer) clearTimeout(this.#timer);
        if (this.aborted) return;
        cb(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }
}

type Callback = (res: IncomingShim) => void;

/** `http.request` / `https.request` (and `get`) over the IPC egress. */
export function makeHttpModule(defaultProtocol: 'http:' | 'https:', send: IpcFetch) {
  function parse(args: unknown[]): { url: URL; options: RequestOptions; cb: Callback | undefined } {
    let url: URL | null = null;
    let options: RequestOptions = {};
    let cb: Callback | undefined;
    for (const arg of args) {
      if (typeof arg === 'string') url = new URL(arg);
      else if (arg instanceof URL) url = arg;
      else if (typeof arg === 'function') cb = arg as Callback;
      else if (arg && typeof arg === 'object') options = arg as RequestOptions;
    }
    if (!url) {
      const protocol = options.protocol ?? defaultProtocol;
      const host = options.hostname ?? options.host ?? 'localhost';
      const port = options.port ? `:${options.port}` : '';
      url = new URL(`${protocol}//${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}${port}${options.path ?? '/'}`);
    }
    return { url, options, cb };
  }
  const request = (...args: unknown[]) => {
    const { url, options, cb } = parse(args);
    const req = new ClientRequestShim(url, (options.method ?? 'GET').toUpperCase(), headerList(options.headers), send);
    if (cb) req.once('response', cb);
    if (options.timeout) req.setTimeout(options.timeout);
    if (options.signal) options.signal.addEventListener('abort', () => req.abort(), { once: true });
    return req;
  };
  const get = (...args: unknown[]) => {
    const req = request(...args);
    req.end();
    return req;
  };
  return { request, get };
}

/** Placeholder agent: libraries that pass `agent` get one that never opens a socket. */
export class NoSocketAgent extends EventEmitter {
  createConnection(): never {
    throw Object.assign(new Error('direct sockets are refused in skills; use fetch or http.request'), { code: 'ERR_ACCESS_DENIED' });
  }
  destroy(): void {}
}
