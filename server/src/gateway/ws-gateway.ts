/**
 * The WebSocket control plane at /trpc. The upgrade is refused (HTTP 403)
 * for origins not on the allowlist before any WebSocket exists. A socket
 * must authenticate with DeviceAuthParams as its tRPC connectionParams
 * within `authTimeoutMs`. A valid proof always gets in; a failed one closes
 * the socket with WS_CLOSE_UNAUTHORIZED, or WS_CLOSE_RATE_LIMITED (with the
 * wait in the reason) once its address failed too often. Sockets that never
 * try are no failures; they are bounded per address instead.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { TRPCError } from '@trpc/server';
import { getWSConnectionHandler } from '@trpc/server/adapters/ws';
import type { CreateWSSContextFnOptions } from '@trpc/server/adapters/ws';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { AppError, LIMITS, rateLimitedReason, WS_CLOSE_RATE_LIMITED, WS_CLOSE_UNAUTHORIZED } from '@autoclaw/shared';
import type { DeviceAuthDeps, FailureThrottle, HostPolicy } from '../security';
import { verifyDeviceAuth } from '../security';
import type { TailscaleIdentityCheck } from '../tailscale';
import { requestIdOf } from '../observability';
import type { Logger } from './logger';
import type { OriginPolicy } from './origin-policy';
import { appRouter } from './router';
import type { SocketRegistry } from './socket-registry';
import type { Context, GatewayServices } from './trpc';

import { WS_PATH } from './ws-path';
import { closeAllSockets, wsHandlerDefaults } from './ws-handler-defaults';
import { batchFrames } from './frame-batching';
const OPEN = 1;

export interface WsGatewayOptions {
  server: Server;
  services: GatewayServices;
  auth: DeviceAuthDeps;
  /** Failed proofs per remote address (shared with /auth/pair and /auth/ticket). */
  limiter: FailureThrottle;
  origins: OriginPolicy;
  /** The upgrade bypasses fastify's hooks, so the Host check is made here too. */
  hosts: HostPolicy;
  registry: SocketRegistry;
  logger: Logger;
  /** A socket not authenticated by then is closed (default 10 s). */
  authTimeoutMs?: number;
  /** Ping after this much quiet; close when no pong (default 30 s). */
  keepAliveMs?: number;
  /** Sockets per address that have not authenticated yet; past it the oldest is closed (default 16). */
  maxUnauthenticatedSockets?: number;
  /** With --tailscale-owner: an upgrade through Tailscale Serve must come from the owner (checked before upgrading). */
  tailscaleIdentity?: TailscaleIdentityCheck;
}

export interface WsGateway {
  readonly connections: number;
  /** Refuses new upgrades and closes every socket. */
  close(): Promise<void>;
}

interface ConnState {
  /** The upgrade request's id (the client's or the manager door's x-request-id). */
  requestId: string;
  remote: string;
  authenticated: boolean;
  /** The socket sent its first frame: from then on a time-out is a failed attempt. */
  tried: boolean;
  /** A failure was already counted against the address. */
  counted: boolean;
  timer: NodeJS.Timeout;
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

/** The first frame of a tRPC socket with connectionParams must be that message. */
function isConnectionParamsFrame(data: unknown, isBinary: boolean): boolean {
  if (isBinary || !Buffer.isBuffer(data)) return false;
  try {
    const msg: unknown = JSON.parse(data.toString('utf8'));
    if (typeof msg !== 'object' || msg === null || (msg as { method?: unknown }).method !== 'connectionParams') return false;
    // tRPC's own shape check (string values) fails outside createContext, so check it here.
    const params = (msg as { data?: unknown }).data;
    if (params === null) return true;
    return typeof params === 'object' && params !== undefined && !Array.isArray(params) && Object.values(params).every((v) => typeof v === 'string');
  } catch {
    return false;
  }
}

export function startWsGateway(opts: WsGatewayOptions): WsGateway {
  const { server, services, auth, limiter, origins, registry, logger } = opts;
  const authTimeoutMs = opts.authTimeoutMs ?? 10_000;
  const maxPending = opts.maxUnauthenticatedSockets ?? 16;
  const wss = new WebSocketServer({ noServer: true, maxPayload: LIMITS.wsFrameBytes, clientTracking: true });
  const states = new WeakMap<WebSocket, ConnState>();
  /** Unauthenticated sockets per address, oldest first. */
  const pending = new Map<string, Set<WebSocket>>();
  let closing = false;

  function settle(ws: WebSocket, remote: string): void {
    const set = pending.get(remote);
    if (!set) return;
    set.delete(ws);
    if (set.size === 0) pending.delete(remote);
  }

  /** Counts a failed attempt once per socket and closes it, rate-limited when the address must now wait. */
  function failAuth(ws: WebSocket, state: ConnState, reason: string): { wait: number } {
    let wait = 0;
    if (!state.counted) {
      state.counted = true;
      wait = limiter.fail(state.remote);
    }
    if (ws.readyState === OPEN) {
      if (wait > 0) ws.close(WS_CLOSE_RATE_LIMITED, rateLimitedReason(wait));
      else ws.close(WS_CLOSE_UNAUTHORIZED, reason.slice(0, 100));
    }
    return { wait };
  }

  // When createContext throws, tRPC v11's ws adapter answers with an id-less
  // error and closes the socket without a code on the next tick; closing it
  // here first is what gives clients WS_CLOSE_UNAUTHORIZED / _RATE_LIMITED.
  // A valid proof is accepted whatever the address's failures: the throttle
  // slows whoever fails, never a device that proves who it is.
  function createContext({ res: ws, info }: CreateWSSContextFnOptions): Context {
    const state = states.get(ws);
    if (!state || ws.readyState !== OPEN) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'connection closed' });
    state.tried = true;
    try {
      const device = verifyDeviceAuth(auth, info.connectionParams);
      state.authenticated = true;
      clearTimeout(state.timer);
      settle(ws, state.remote);
      registry.add(device.id, ws);
      logger.info('socket authenticated', { requestId: state.requestId, deviceId: device.id });
      return { services, deviceId: device.id, requestId: state.requestId };
    } catch (err) {
      const message = AppError.is(err) ? err.message : 'authentication failed';
      logger.warn('socket authentication refused', { remote: state.remote, reason: message });
      const { wait } = failAuth(ws, state, message);
      if (wait > 0) {
        const limited = new AppError('RATE_LIMITED', 'too many failed attempts', { details: { retryAfterMs: wait } });
        throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: limited.message, cause: limited });
      }
      throw new TRPCError({ code: 'UNAUTHORIZED', message, cause: err });
    }
  }

  const handleConnection = getWSConnectionHandler({
    wss,
    router: appRouter,
    createContext,
    ...wsHandlerDefaults(logger, opts.keepAliveMs),
  });

  function onConnection(ws: WebSocket, req: IncomingMessage): void {
    const remote = req.socket.remoteAddress ?? 'unknown';
    const state: ConnState = {
      requestId: requestIdOf(req.headers),
      remote,
      authenticated: false,
      tried: false,
      counted: false,
      timer: setTimeout(() => {
        if (state.authenticated) return;
        // A socket that never tried is no failure; one that sent something and stalled is.
        if (state.tried) failAuth(ws, state, 'authentication timeout');
        else if (ws.readyState === OPEN) ws.close(WS_CLOSE_UNAUTHORIZED, 'authentication timeout');
      }, authTimeoutMs),
    };
    states.set(ws, state);
    // Sockets that never authenticate are bounded per address by closing the
    // oldest: a new socket (a device about to prove itself) is never refused.
    const set = pending.get(remote) ?? new Set<WebSocket>();
    pending.set(remote, set);
    set.add(ws);
    if (set.size > maxPending) {
      const oldest = set.values().next().value;
      if (oldest) {
        settle(oldest, remote);
        if (oldest.readyState === OPEN) oldest.close(WS_CLOSE_RATE_LIMITED, 'too many unauthenticated sockets from this address');
      }
    }
    ws.once('close', () => {
      clearTimeout(state.timer);
      settle(ws, remote);
      registry.remove(ws);
    });
    ws.once('message', (data, isBinary) => {
      state.tried = true;
      if (!isConnectionParamsFrame(data, isBinary)) failAuth(ws, state, 'expected connectionParams first');
    });
    batchFrames(ws, req.socket);
    // Without `?connectionParams=1` tRPC would build the context at once, with no credentials.
    handleConnection(ws, req);
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0];
    if (path !== WS_PATH) return refuseUpgrade(socket, 404, 'Not Found');
    if (closing) return refuseUpgrade(socket, 503, 'Service Unavailable');
    if (!opts.hosts.isAllowed(req.headers.host)) {
      logger.warn('websocket for a foreign Host refused', { host: String(req.headers.host).slice(0, 200) });
      return refuseUpgrade(socket, 403, 'Forbidden');
    }
    if (!origins.isAllowed(req.headers.origin)) {
      logger.warn('websocket from a foreign origin refused', { origin: String(req.headers.origin).slice(0, 200) });
      return refuseUpgrade(socket, 403, 'Forbidden');
    }
    const identity = opts.tailscaleIdentity;
    if (!identity) return wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req));
    // The upgrade bypasses fastify's hooks, so the Serve identity is checked here, before any WebSocket exists.
    identity
      .check({ remoteAddress: req.socket.remoteAddress, headers: req.headers })
      .then((decision) => {
        if (socket.destroyed) return;
        if (closing) return refuseUpgrade(socket, 503, 'Service Unavailable');
        if (!decision.allow) return refuseUpgrade(socket, decision.status, decision.status === 503 ? 'Service Unavailable' : 'Forbidden');
        wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req));
      })
      .catch(() => refuseUpgrade(socket, 503, 'Service Unavailable'));
  }

  server.on('upgrade', onUpgrade);

  return {
    get connections() {
      return wss.clients.size;
    },
    async close() {
      closing = true;
      server.off('upgrade', onUpgrade);
      await closeAllSockets(wss, 'gateway shutting down');
    },
  };
}
