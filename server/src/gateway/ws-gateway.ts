/**
 * The WebSocket control plane at /trpc. The upgrade is refused (HTTP 403)
 * for origins not on the allowlist before any WebSocket exists. A socket
 * must authenticate with DeviceAuthParams as its tRPC connectionParams
 * within `authTimeoutMs`; any failure closes it with WS_CLOSE_UNAUTHORIZED,
 * and addresses with too many failures get WS_CLOSE_RATE_LIMITED.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { TRPCError } from '@trpc/server';
import { getWSConnectionHandler } from '@trpc/server/adapters/ws';
import type { CreateWSSContextFnOptions } from '@trpc/server/adapters/ws';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { AppError, LIMITS, WS_CLOSE_RATE_LIMITED, WS_CLOSE_UNAUTHORIZED } from '@autoclaw/shared';
import type { DeviceAuthDeps, RateLimiter } from '../security';
import { verifyDeviceAuth } from '../security';
import type { TailscaleIdentityCheck } from '../tailscale';
import type { Logger } from './logger';
import type { OriginPolicy } from './origin-policy';
import { appRouter } from './router';
import type { SocketRegistry } from './socket-registry';
import type { Context, GatewayServices } from './trpc';

import { WS_PATH } from './ws-path';
import { closeAllSockets, wsHandlerDefaults } from './ws-handler-defaults';
const OPEN = 1;

export interface WsGatewayOptions {
  server: Server;
  services: GatewayServices;
  auth: DeviceAuthDeps;
  limiter: RateLimiter;
  origins: OriginPolicy;
  registry: SocketRegistry;
  logger: Logger;
  /** A socket not authenticated by then is closed (default 10 s). */
  authTimeoutMs?: number;
  /** Ping after this much quiet; close when no pong (default 30 s). */
  keepAliveMs?: number;
  /** With --tailscale-owner: an upgrade through Tailscale Serve must come from the owner (checked before upgrading). */
  tailscaleIdentity?: TailscaleIdentityCheck;
}

export interface WsGateway {
  readonly connections: number;
  /** Refuses new upgrades and closes every socket. */
  close(): Promise<void>;
}

interface ConnState {
  remote: string;
  authenticated: boolean;
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
  const wss = new WebSocketServer({ noServer: true, maxPayload: LIMITS.wsFrameBytes, clientTracking: true });
  const states = new WeakMap<WebSocket, ConnState>();
  let closing = false;

  function failAuth(ws: WebSocket, state: ConnState | undefined, code: number, reason: string): void {
    if (state && !state.counted) {
      state.counted = true;
      limiter.fail(state.remote);
    }
    if (ws.readyState === OPEN) ws.close(code, reason);
  }

  // When createContext throws, tRPC v11's ws adapter answers with an id-less
  // error and closes the socket without a code on the next tick; closing it
  // here first is what gives clients WS_CLOSE_UNAUTHORIZED / _RATE_LIMITED.
  function createContext({ res: ws, info }: CreateWSSContextFnOptions): Context {
    const state = states.get(ws);
    if (!state || ws.readyState !== OPEN) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'connection closed' });
    if (limiter.blockedFor(state.remote) > 0) {
      failAuth(ws, undefined, WS_CLOSE_RATE_LIMITED, 'too many failed attempts');
      throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: 'too many failed attempts' });
    }
    try {
      const device = verifyDeviceAuth(auth, info.connectionParams);
      state.authenticated = true;
      clearTimeout(state.timer);
      registry.add(device.id, ws);
      return { services, deviceId: device.id };
    } catch (err) {
      const message = AppError.is(err) ? err.message : 'authentication failed';
      logger.warn('socket authentication refused', { remote: state.remote, reason: message });
      failAuth(ws, state, WS_CLOSE_UNAUTHORIZED, message.slice(0, 100));
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
    if (limiter.blockedFor(remote) > 0) {
      ws.close(WS_CLOSE_RATE_LIMITED, 'too many failed attempts');
      return;
    }
    const state: ConnState = {
      remote,
      authenticated: false,
      counted: false,
      timer: setTimeout(() => {
        if (!state.authenticated) failAuth(ws, state, WS_CLOSE_UNAUTHORIZED, 'authentication timeout');
      }, authTimeoutMs),
    };
    states.set(ws, state);
    ws.once('close', () => {
      clearTimeout(state.timer);
      registry.remove(ws);
      if (!state.authenticated && !state.counted) {
        state.counted = true;
        limiter.fail(remote);
      }
    });
    ws.once('message', (data, isBinary) => {
      if (!isConnectionParamsFrame(data, isBinary)) failAuth(ws, state, WS_CLOSE_UNAUTHORIZED, 'expected connectionParams first');
    });
    // Without `?connectionParams=1` tRPC would build the context at once, with no credentials.
    handleConnection(ws, req);
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0];
    if (path !== WS_PATH) return refuseUpgrade(socket, 404, 'Not Found');
    if (closing) return refuseUpgrade(socket, 503, 'Service Unavailable');
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
