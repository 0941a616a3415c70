/**
 * HTTP plumbing shared by the Anthropic and OpenAI wire servers: a node:http
 * server on loopback, request recording, the reply queue, SSE writing with
 * optional byte-level splitting, and a close() that ends hanging streams and
 * leaves no socket or timer behind.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDefaultResponder, type ConversationView } from './default-responder';
import type { RecordedRequest, ScriptedReply, WireServer, WireServerOptions } from './wire-types';

const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** What a protocol handler gets from the base. */
export interface WireBase {
  readonly opts: WireServerOptions;
  /** The next scripted reply, or the default responder's answer to `view()`. */
  nextReply(view: () => ConversationView): ScriptedReply;
  /** Monotonic ids like `msg_000001`. */
  nextId(prefix: string): string;
  /** An SSE writer for `res` (headers must be written by the caller). */
  sink(res: ServerResponse): SseSink;
}

export interface IncomingRequest {
  req: IncomingMessage;
  res: ServerResponse;
  /** Parsed JSON body, or undefined when the body was not JSON. */
  body: unknown;
  bodyBytes: number;
}

export type WireHandler = (request: IncomingRequest) => Promise<void>;

/** The WireServer plus counters tests use to see the client side's behaviour. */
export interface WireServerHandle extends WireServer {
  /** Requests whose response is still being produced. */
  readonly activeRequests: number;
  /** Responses the client abandoned before the server finished them. */
  readonly clientAborts: number;
}

/** Buffers SSE frames and writes them, split into pieces of at most `maxChunkBytes`. */
export class SseSink {
  private pending = '';
  private gone = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly maxChunkBytes: number | undefined,
    private readonly lifetime: AbortSignal,
  ) {
    res.once('close', () => {
      this.gone = true;
    });
  }

  get closed(): boolean {
    return this.gone || this.res.destroyed || this.lifetime.aborted;
  }

  push(frame: string): void {
    this.pending += frame;
  }

  /** Writes what was pushed; with `written`, resolves only once the bytes reached the socket. */
  async flush(written = false): Promise<void> {
    const text = this.pending;
    this.pending = '';
    if (text.length === 0 || this.closed) return;
    const max = this.maxChunkBytes;
    const pieces: Array<string | Buffer> = [];
    if (max === undefined || max <= 0) pieces.push(text);
    else {
      const bytes = Buffer.from(text, 'utf8');
      for (let at = 0; at < bytes.length; at += max) pieces.push(bytes.subarray(at, at + max));
    }
    for (const [i, piece] of pieces.entries()) {
      if (this.closed) return;
      const last = i === pieces.length - 1;
      if (last && written) {
        await new Promise<void>((resolve) => this.res.write(piece, () => resolve()));
      } else {
        this.res.write(piece);
        // Yield to the event loop so split pieces leave as separate writes (and chunks).
        if (!last) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  /** Resolves after `ms`, or at once when the client goes or the server closes. */
  sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        this.res.off('close', done);
        this.lifetime.removeEventListener('abort', done);
        resolve();
      };
      const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
      this.res.once('close', done);
      this.lifetime.addEventListener('abort', done, { once: true });
    });
  }

  /** Flushes and ends the response cleanly. */
  async end(): Promise<void> {
    await this.flush();
    if (!this.closed) this.res.end();
  }

  /** Flushes, then cuts the connection (a network failure mid-stream). */
  async cut(): Promise<void> {
    // Let what was written reach the socket first, so the client sees the text, then the cut.
    await this.flush(true);
    this.res.socket?.destroy();
    this.res.destroy();
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export async function startWireServer(
  opts: WireServerOptions,
  urlSuffix: string,
  createHandler: (base: WireBase) => WireHandler,
): Promise<WireServerHandle> {
  const requests: RecordedRequest[] = [];
  const queue: ScriptedReply[] = [];
  const inflight = new Set<Promise<void>>();
  const lifetime = new AbortController();
  const respondDefault = createDefaultResponder({ wordDelayMs: opts.wordDelayMs ?? 0 });
  let idCounter = 0;
  let clientAborts = 0;

  const base: WireBase = {
    opts,
    nextReply: (view) => queue.shift() ?? respondDefault(view()),
    nextId: (prefix) => `${prefix}_${String(++idCounter).padStart(6, '0')}`,
    sink: (res) => new SseSink(res, opts.maxChunkBytes, lifetime.signal),
  };
  const handle = createHandler(base);

  const server = createServer((req, res) => {
    const startedAt = performance.now();
    res.once('close', () => {
      if (!res.writableFinished && !lifetime.signal.aborted) clientAborts++;
    });
    const task = (async () => {
      const { body, bytes } = await readBody(req);
      const recorded: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: { ...req.headers }, body, startedAt };
      res.once('finish', () => {
        recorded.finishedAt = performance.now();
        opts.onFinished?.(recorded);
      });
      requests.push(recorded);
      await handle({ req, res, body, bodyBytes: bytes });
    })().catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: String(error) } });
      else res.destroy();
    });
    inflight.add(task);
    void task.finally(() => inflight.delete(task));
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;

  return {
    url: `http://127.0.0.1:${port}${urlSuffix}`,
    requests,
    get activeRequests() {
      return inflight.size;
    },
    get clientAborts() {
      return clientAborts;
    },
    enqueue: (...replies) => {
      queue.push(...replies);
    },
    close: () => {
      closing ??= (async () => {
        lifetime.abort();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Cut every connection, hanging streams included; their handlers wake and finish.
        server.closeAllConnections();
        await Promise.allSettled([...inflight]);
        await closed;
      })();
      return closing;
    },
  };
}

async function readBody(req: IncomingMessage): Promise<{ body: unknown; bytes: number }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk);
  }
  if (bytes === 0) return { body: undefined, bytes };
  try {
    return { body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown, bytes };
  } catch {
    return { body: undefined, bytes };
  }
}
