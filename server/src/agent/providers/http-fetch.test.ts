import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listenLocal, type LocalListener } from '../../testing/listen-local';
import { createHttpFetch, type HttpFetch } from './http-fetch';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  socket: number;
}

let server: LocalListener;
let base: string;
let seen: Seen[];
let transport: HttpFetch;
/** Lets a test hold a streamed response open. */
let release: (() => void) | null;

async function handle(req: IncomingMessage, res: ServerResponse, socketId: number): Promise<void> {
  let body = '';
  for await (const chunk of req) body += String(chunk);
  seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, socket: socketId });
  if (req.url === '/json') {
    res.writeHead(201, { 'content-type': 'application/json', 'request-id': 'req_1' }).end(JSON.stringify({ echo: JSON.parse(body) as unknown }));
  } else if (req.url === '/error') {
    res.writeHead(429, 'Too Many Requests', { 'retry-after': '3', 'content-type': 'application/json' }).end('{"error":{"type":"rate_limit_error"}}');
  } else if (req.url === '/stream') {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('event: one\ndata: {}\n\n');
    await new Promise<void>((resolve) => (release = resolve));
    res.end('event: two\ndata: {}\n\n');
  } else if (req.url === '/hang') {
    await new Promise<void>((resolve) => (release = resolve));
    res.end();
  } else {
    res.writeHead(404).end('no');
  }
}

beforeEach(async () => {
  seen = [];
  release = null;
  let sockets = 0;
  const ids = new WeakMap<object, number>();
  const http = createServer((req, res) => {
    if (!ids.has(req.socket)) ids.set(req.socket, ++sockets);
    void handle(req, res, ids.get(req.socket) ?? 0);
  });
  server = await listenLocal(http);
  base = `http://127.0.0.1:${server.port}`;
  transport = createHttpFetch();
});

afterEach(async () => {
  release?.();
  transport.close();
  await server.close();
});

describe('the providers’ fetch over node:http', () => {
  it('sends method, headers and body in one request and reads status, headers and JSON', async () => {
    const res = await transport.fetch(`${base}/json`, {
      method: 'POST',
      headers: new Headers({ 'X-Api-Key': 'sk-1', 'content-type': 'application/json' }),
      body: JSON.stringify({ hello: 'wörld' }),
    });
    expect(res.status).toBe(201);
    expect(res.ok).toBe(true);
    expect(res.headers.get('request-id')).toBe('req_1');
    expect(await res.json()).toEqual({ echo: { hello: 'wörld' } });
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/json', body: '{"hello":"wörld"}' });
    expect(seen[0]?.headers['x-api-key']).toBe('sk-1');
    expect(seen[0]?.headers['content-length']).toBe(String(Buffer.byteLength('{"hello":"wörld"}')));
  });

  it('hands an error status and its body to the caller (no throw), as fetch does', async () => {
    const res = await transport.fetch(`${base}/error`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.ok).toBe(false);
    expect(res.status).toBe(429);
    expect(res.statusText).toBe('Too Many Requests');
    expect(res.headers.get('retry-after')).toBe('3');
    expect(await res.text()).toBe('{"error":{"type":"rate_limit_error"}}');
    await expect(res.text()).rejects.toThrow(/already been read/);
  });

  it('keeps the connection alive between requests', async () => {
    for (let i = 0; i < 3; i += 1) await (await transport.fetch(`${base}/json`, { method: 'POST', body: '{}' })).text();
    expect(seen.map((s) => s.socket)).toEqual([1, 1, 1]);
  });

  it('streams the body as bytes as they arrive, and an abort mid-body ends it with an AbortError', async () => {
    const controller = new AbortController();
    const res = await transport.fetch(`${base}/stream`, { signal: controller.signal });
    const iterator = (res.body as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(Buffer.from(first.value as Uint8Array).toString()).toBe('event: one\ndata: {}\n\n');
    controller.abort();
    await expect(iterator.next()).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('rejects with an AbortError when aborted before the answer, and at once when already aborted', async () => {
    const controller = new AbortController();
    const pending = transport.fetch(`${base}/hang`, { signal: controller.signal });
    await expect.poll(() => seen.length).toBe(1);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expect(transport.fetch(`${base}/json`, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toHaveLength(1);
  });

  it('rejects a refused connection with fetch’s TypeError and the cause', async () => {
    const closed = `http://127.0.0.1:${server.port}`;
    await server.close();
    const error = await transport.fetch(`${closed}/json`).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe('fetch failed');
    expect(((error as TypeError).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('leaves bodies it does not carry (streams, forms) to the global fetch', async () => {
    const form = new FormData();
    form.set('field', 'value');
    const res = await transport.fetch(`${base}/form`, { method: 'POST', body: form });
    expect(res).toBeInstanceOf(Response);
    expect(seen[0]?.headers['content-type']).toMatch(/^multipart\/form-data/);
  });
});
