/**
 * The one door: clients reach their instance through the manager's address
 * at /i/<instanceId>/… — HTTP proxied request by request, a WebSocket
 * tunnelled byte for byte after the upgrade — so the instance itself need
 * not be reachable from outside (local driver: loopback only). Before
 * anything is forwarded or woken the caller proves it is signed in as the
 * instance's owner (door-access.ts: a door pass or a session token; both
 * are taken off the request before it goes on). The gateway still
 * authenticates devices end to end; the manager checks Host and Origin
 * before the door (the gateway accepts the manager's origins) and
 * forwards the request id (x-request-id), X-Forwarded-For and
 * X-Forwarded-Host. The instance's /metrics is not behind the door.
 */
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { AppError, DOOR_PASS_PARAM, rateLimitedReason, WS_CLOSE_DOOR_REFUSED, WS_CLOSE_RATE_LIMITED, WS_CLOSE_WAKE_FAILED } from '@autoclaw/shared';
import type { ErrorCode } from '@autoclaw/shared';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { REQUEST_ID_HEADER, requestIdOf } from '../observability';
import { HTTP_STATUS_OF } from './gateway-parts';
import type { Logger } from './gateway-parts';
import type { DoorActivity } from './door-activity';
import type { DoorProof } from './door-access';

export const DOOR_PREFIX = '/i/';
const DOOR_PATH = /^\/i\/([A-Za-z0-9_-]{1,64})(\/[^?#]*)?(\?.*)?$/;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);
const UPSTREAM_TIMEOUT_MS = 30_000;
const CHANNEL_PATH = /^\/channels\/[a-z0-9_-]{1,40}\//;

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
  /** Checks the caller is the instance's owner before anything else happens (door-access.ts). */
  access?: { check(instanceId: string, proof: DoorProof): Promise<void> };
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
  /** The path and query to forward (without the door pass). */
  path: string;
  pass: string | null;
}

function parse(url: string | undefined): Parsed | null {
  const m = DOOR_PATH.exec(url ?? '');
  if (!m || m[1] === undefined) return null;
  const query = new URLSearchParams(m[3] ?? '');
  const pass = query.get(DOOR_PASS_PARAM);
  if (pass === null) return { instanceId: m[1], path: `${m[2] ?? '/'}${m[3] ?? ''}`, pass: null };
  query.delete(DOOR_PASS_PARAM);
  const rest = query.toString();
  return { instanceId: m[1], path: `${m[2] ?? '/'}${rest === '' ? '' : `?${rest}`}`, pass };
}

/** A session token in `Authorization: Bearer …`, or null. */
function bearerOf(req: IncomingMessage): string | null {
  const [scheme, value, extra] = String(req.headers.authorization ?? '').trim().split(/\s+/);
  return scheme?.toLowerCase() === 'bearer' && value !== undefined && extra === undefined && value.length <= 200 ? value : null;
}

function forwardedHeaders(req: IncomingMessage, upstreamHost: string, requestId: string): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  // The manager's session token stays at the door.
  for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name) && name !== 'authorization') headers[name] = value;
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

/** Completes the WebSocket handshake and closes with `code` and `reason` (at most 123 bytes): a browser sees no refused upgrade's status or body. */
function closeWithReason(req: IncomingMessage, socket: Duplex, head: Buffer, code: number, reason: string): void {
  if (socket.destroyed) return;
  let short = reason;
  while (Buffer.byteLength(short) > 123) short = short.slice(0, -1);
  const wss = new WebSocketServer({ noServer: true });
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.close(code, short);
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

  /**
   * The caller's proof is checked first: a refused caller wakes nothing and is counted nowhere.
   * Channel webhooks (`/channels/…`) come from platforms with no manager session: each channel
   * authenticates them at the gateway (secret token, signature, JWT), so they pass — and wake it.
   */
  async function admit(parsed: Parsed, req: IncomingMessage, upgrade = false): Promise<void> {
    if (!upgrade && CHANNEL_PATH.test(parsed.path) && !parsed.path.split('?')[0]?.includes('..')) return;
    await opts.access?.check(parsed.instanceId, { pass: parsed.pass, bearer: bearerOf(req), remote: req.socket.remoteAddress ?? 'unknown' });
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
      let upstream: URL;
      try {
        await admit(parsed, raw);
        const ended = opts.activity?.begin(parsed.instanceId);
        if (ended) res.once('close', ended);
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
        // A wake that failed or a refused caller: the upgrade is accepted and closed at once with the reason.
        if (AppError.is(err) && err.details?.['wakeFailed'] === true) return closeWithReason(req, socket, head, WS_CLOSE_WAKE_FAILED, err.message);
        if (AppError.is(err, 'UNAUTHORIZED') || AppError.is(err, 'FORBIDDEN')) return closeWithReason(req, socket, head, WS_CLOSE_DOOR_REFUSED, `${err.code}: ${err.message}`);
        if (AppError.is(err, 'RATE_LIMITED')) return closeWithReason(req, socket, head, WS_CLOSE_RATE_LIMITED, rateLimitedReason(Number(err.details?.['retryAfterMs'] ?? 1_000)));
        const { status, body } = errorBody(err);
        socket.once('finish', () => socket.destroy());
        socket.end(`HTTP/1.1 ${status} Refused\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      };
      const parsed = parse(req.url);
      if (!parsed) return refuse(new AppError('NOT_FOUND', 'no such instance address'));
      admit(parsed, req, true)
        .then(() => {
          const ended = opts.activity?.begin(parsed.instanceId);
          if (ended) socket.once('close', ended);
          return target(parsed, requestId);
        })
        .then(
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
