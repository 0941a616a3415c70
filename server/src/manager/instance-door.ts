/**
 * The one door: clients reach their instance through the manager's address
 * at /i/<instanceId>/… — HTTP proxied request by request, a WebSocket
 * tunnelled byte for byte after the upgrade — so the instance itself need
 * not be reachable from outside (local driver: loopback only). The gateway
 * still authenticates devices end to end; the manager checks Host and
 * Origin before the door (the gateway accepts the manager's origins) and
 * forwards the request id (x-request-id), X-Forwarded-For and
 * X-Forwarded-Host. The instance's /metrics is not behind the door.
 */
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { AppError, WS_CLOSE_WAKE_FAILED } from '@autoclaw/shared';
import type { ErrorCode } from '@autoclaw/shared';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { REQUEST_ID_HEADER, requestIdOf } from '../observability';
import { HTTP_STATUS_OF } from './gateway-parts';
import type { Logger } from './gateway-parts';
import type { DoorActivity } from './door-activity';

export const DOOR_PREFIX = '/i/';
const DOOR_PATH = /^\/i\/([A-Za-z0-9_-]{1,64})(\/[^?#]*)?(\?.*)?$/;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);
const UPSTREAM_TIMEOUT_MS = 30_000;

export interface DoorTarget {
  /** The instance's gateway, e.g. http://127.0.0.1:PORT. */
  url: string;
}

export interface InstanceDoorOptions {
  /** Where the instance answers now; throws AppError (NOT_FOUND, CONFLICT…) when it cannot be reached. */
  resolve(instanceId: string, requestId: string): Promise<DoorTarget>;
  logger: Logger;
  /** Counts requests and tunnels per instance (the sleeper keeps a used instance awake). */
  activity?: DoorActivity;
}

export interface InstanceDoor {
  /** True for a URL behind the door. */
  owns(url: string | undefined): boolean;
  /** An onRequest hook: proxies a door request (before any body parsing) and ends it. */
  onRequest(req: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** Tunnels a WebSocket upgrade to the instance (Host and Origin already checked). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Cuts every open tunnel and request. */
  close(): void;
}

interface Parsed {
  instanceId: string;
  path: string;
}

function parse(url: string | undefined): Parsed | null {
  const m = DOOR_PATH.exec(url ?? '');
  if (!m || m[1] === undefined) return null;
  return { instanceId: m[1], path: `${m[2] ?? '/'}${m[3] ?? ''}` };
}

function forwardedHeaders(req: IncomingMessage, upstreamHost: string, requestId: string): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value;
  const remote = req.socket.remoteAddress ?? 'unknown';
  const prior = req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = prior ? `${String(prior)}, ${remote}` : remote;
  if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
  headers[REQUEST_ID_HEADER] = requestId;
  headers.host = upstreamHost;
  return headers;
}

function errorBody(err: unknown): { status: number; body: string } {
  const appError = AppError.is(err) ? err : new AppError('TIMEOUT', 'your assistant did not answer; try again in a moment');
  const code: ErrorCode = appError.code;
  const message = code === 'INTERNAL' ? 'something went wrong' : appError.message;
  return { status: HTTP_STATUS_OF[code], body: JSON.stringify({ error: { code, message } }) };
}

/** Completes the WebSocket handshake and closes with WS_CLOSE_WAKE_FAILED and `reason` (at most 123 bytes). */
function closeWithReason(req: IncomingMessage, socket: Duplex, head: Buffer, reason: string): void {
  if (socket.destroyed) return;
  let short = reason;
  while (Buffer.byteLength(short) > 123) short = short.slice(0, -1);
  const wss = new WebSocketServer({ noServer: true });
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.close(WS_CLOSE_WAKE_FAILED, short);
    ws.once('close', () => wss.close());
  });
}

export function createInstanceDoor(opts: InstanceDoorOptions): InstanceDoor {
  const { logger } = opts;
  const open = new Set<Duplex>();

  function track(s: Duplex): void {
    open.add(s);
    s.once('close', () => open.delete(s));
  }

  async function target(parsed: Parsed, requestId: string): Promise<URL> {
    const segment = parsed.path.split('?')[0] ?? '/';
    if (segment === '/metrics' || segment.startsWith('/metrics/')) throw new AppError('NOT_FOUND', 'not found');
    const { url } = await opts.resolve(parsed.instanceId, requestId);
    return new URL(url);
  }

  return {
    owns: (url) => (url ?? '').startsWith(DOOR_PREFIX),

    async onRequest(req, reply) {
      if (!(req.url ?? '').startsWith(DOOR_PREFIX)) return;
      const raw = req.raw;
      const res = reply.raw;
      const requestId = req.id;
      reply.hijack();
      const fail = (err: unknown) => {
        const { status, body } = errorBody(err);
        if (!res.headersSent) {
          res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', [REQUEST_ID_HEADER]: requestId, 'content-length': Buffer.byteLength(body) });
        }
        res.end(body);
      };
      const parsed = parse(raw.url);
      if (!parsed) return fail(new AppError('NOT_FOUND', 'no such instance address'));
      const ended = opts.activity?.begin(parsed.instanceId);
      if (ended) res.once('close', ended);
      let upstream: URL;
      try {
        upstream = await target(parsed, requestId);
      } catch (err) {
        return fail(err);
      }
      const out = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: raw.method, path: parsed.path, headers: forwardedHeaders(raw, upstream.host, requestId), timeout: UPSTREAM_TIMEOUT_MS },
        (answer) => {
          const headers: IncomingHttpHeaders = {};
          for (const [name, value] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(name) || name === 'transfer-encoding') headers[name] = value;
          headers[REQUEST_ID_HEADER] = requestId;
          res.writeHead(answer.statusCode ?? 502, headers);
          answer.pipe(res);
        },
      );
      out.on('timeout', () => out.destroy(new AppError('TIMEOUT', 'your assistant did not answer in time')));
      out.on('error', (err) => {
        logger.warn('door: the instance did not answer', { instanceId: parsed.instanceId, requestId, err: err.message });
        if (res.headersSent) res.destroy();
        else fail(AppError.is(err) ? err : undefined);
      });
      raw.pipe(out);
    },

    upgrade(req, socket, head) {
      track(socket);
      const requestId = requestIdOf(req.headers);
      const refuse = (err: unknown) => {
        // A wake that failed: the upgrade is accepted and closed at once with the reason (a browser sees no refused upgrade's body).
        if (AppError.is(err) && err.details?.['wakeFailed'] === true) return closeWithReason(req, socket, head, err.message);
        const { status, body } = errorBody(err);
        socket.once('finish', () => socket.destroy());
        socket.end(`HTTP/1.1 ${status} Refused\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      };
      const parsed = parse(req.url);
      if (!parsed) return refuse(new AppError('NOT_FOUND', 'no such instance address'));
      const ended = opts.activity?.begin(parsed.instanceId);
      if (ended) socket.once('close', ended);
      target(parsed, requestId).then(
        (upstream) => {
          if (socket.destroyed) return;
          const tunnel = connect({ host: upstream.hostname, port: Number(upstream.port) });
          track(tunnel);
          const headers = forwardedHeaders(req, upstream.host, requestId);
          const lines = [`GET ${parsed.path} HTTP/1.1`, `host: ${upstream.host}`, 'connection: Upgrade', `upgrade: ${String(req.headers.upgrade ?? 'websocket')}`];
          for (const [name, value] of Object.entries(headers)) {
            if (name === 'host' || value === undefined) continue;
            for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
          }
          let connected = false;
          tunnel.once('connect', () => {
            connected = true;
            tunnel.write(`${lines.join('\r\n')}\r\n\r\n`);
            if (head.length > 0) tunnel.write(head);
            socket.pipe(tunnel);
            tunnel.pipe(socket);
            logger.info('door: websocket tunnelled', { instanceId: parsed.instanceId, requestId });
          });
          tunnel.on('error', (err) => {
            logger.warn('door: the instance did not answer', { instanceId: parsed.instanceId, requestId, err: err.message });
            if (!connected) refuse(undefined);
            else socket.destroy();
          });
          tunnel.on('close', () => socket.destroy());
          socket.on('close', () => tunnel.destroy());
        },
        (err: unknown) => refuse(err),
      );
    },

    close() {
      for (const s of open) s.destroy();
      open.clear();
    },
  };
}
