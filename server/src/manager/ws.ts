/**
 * The manager's tRPC over WebSocket at /trpc (same router as HTTP). The
 * upgrade is refused (403) for origins not on the allowlist before a socket
 * exists. A socket signs in with connectionParams `{ token }` (a session
 * token) or none (then only public procedures work); a bad token closes it
 * with MANAGER_WS_CLOSE_UNAUTHORIZED. The socket keeps its session, not
 * the token, so refreshes elsewhere do not log it out; revoking the session
 * closes it at once.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { TRPCError } from '@trpc/server';
import { getWSConnectionHandler } from '@trpc/server/adapters/ws';
import type { CreateWSSContextFnOptions } from '@trpc/server/adapters/ws';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { AppError, LIMITS, MANAGER_WS_CLOSE_UNAUTHORIZED } from '@autoclaw/shared';
import { closeAllSockets, wsHandlerDefaults } from './gateway-parts';
import type { Logger, OriginPolicy } from './gateway-parts';
import type { HostPolicy } from '../security';
import { managerRouter } from './router';
import type { ManagerContext, ManagerServices } from './trpc';

export const MANAGER_WS_PATH = '/trpc';
const OPEN = 1;

export interface ManagerWs {
  readonly connections: number;
  /** Closes the sockets of these sessions (they were revoked). */
  closeSessions(sessionIds: readonly string[]): number;
  close(): Promise<void>;
}

export interface ManagerWsOptions {
  server: Server;
  services: ManagerServices;
  origins: OriginPolicy;
  /** The upgrade bypasses fastify's hooks, so the Host check is made here too. */
  hosts: HostPolicy;
  logger: Logger;
  keepAliveMs?: number;
  /** The one door: upgrades under /i/<instanceId>/ are tunnelled to the instance (after the Host and Origin checks). */
  door?: { owns(url: string | undefined): boolean; upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void };
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
}

export function startManagerWs(opts: ManagerWsOptions): ManagerWs {
  const { server, services, origins, logger } = opts;
  const wss = new WebSocketServer({ noServer: true, maxPayload: LIMITS.wsFrameBytes, clientTracking: true });
  const bySession = new Map<string, Set<WebSocket>>();
  const remotes = new WeakMap<WebSocket, string>();
  let closing = false;

  function track(sessionId: string, ws: WebSocket): void {
    let set = bySession.get(sessionId);
    if (!set) bySession.set(sessionId, (set = new Set()));
    set.add(ws);
    ws.once('close', () => {
      set.delete(ws);
      if (set.size === 0) bySession.delete(sessionId);
    });
  }

  async function createContext({ res: ws, info }: CreateWSSContextFnOptions): Promise<ManagerContext> {
    const remote = remotes.get(ws) ?? 'unknown';
    const base: ManagerContext = { services, remote, transport: 'ws', bearer: null, sessionId: null, operator: false };
    const params = info.connectionParams;
    const token = params?.['token'];
    if (token === undefined) return base;
    try {
      if (typeof token !== 'string' || token.length > 200) throw new AppError('UNAUTHORIZED', 'connectionParams.token must be a session token');
      const auth = await services.accounts.authenticate(token);
      track(auth.sessionId, ws);
      return { ...base, sessionId: auth.sessionId };
    } catch (err) {
      const message = AppError.is(err) ? err.message : 'sign-in failed';
      if (ws.readyState === OPEN) ws.close(MANAGER_WS_CLOSE_UNAUTHORIZED, message.slice(0, 100));
      throw new TRPCError({ code: 'UNAUTHORIZED', message, cause: err });
    }
  }

  const handleConnection = getWSConnectionHandler({
    wss,
    router: managerRouter,
    createContext,
    ...wsHandlerDefaults(logger, opts.keepAliveMs),
  });

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0];
    const door = opts.door?.owns(path) ? opts.door : null;
    if (path !== MANAGER_WS_PATH && !door) return refuseUpgrade(socket, 404, 'Not Found');
    if (closing) return refuseUpgrade(socket, 503, 'Service Unavailable');
    if (!opts.hosts.isAllowed(req.headers.host)) return refuseUpgrade(socket, 403, 'Forbidden');
    if (!origins.isAllowed(req.headers.origin)) {
      logger.warn('websocket from a foreign origin refused', { origin: String(req.headers.origin).slice(0, 200) });
      return refuseUpgrade(socket, 403, 'Forbidden');
    }
    if (door) return door.upgrade(req, socket, head);
    wss.handleUpgrade(req, socket, head, (ws) => {
      remotes.set(ws, req.socket.remoteAddress ?? 'unknown');
      handleConnection(ws, req);
    });
  }

  server.on('upgrade', onUpgrade);

  return {
    get connections() {
      return wss.clients.size;
    },
    closeSessions(sessionIds) {
      const sockets = sessionIds.flatMap((id) => [...(bySession.get(id) ?? [])]);
      // After the current call's answer went out (a socket may sign itself out).
      if (sockets.length > 0) {
        setImmediate(() => {
          for (const ws of sockets) if (ws.readyState === OPEN) ws.close(MANAGER_WS_CLOSE_UNAUTHORIZED, 'session ended');
        });
      }
      return sockets.length;
    },
    async close() {
      closing = true;
      server.off('upgrade', onUpgrade);
      await closeAllSockets(wss, 'manager shutting down');
    },
  };
}
