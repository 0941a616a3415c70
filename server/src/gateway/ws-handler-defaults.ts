/**
 * What the gateway's and the manager's WebSocket endpoints give tRPC besides
 * their router and context: keep-alive pings (a dead peer is noticed within
 * a ping and a pong wait), and one log line for internal failures only —
 * a refused or invalid call is the caller's business, not an error here.
 */
import type { TRPCError } from '@trpc/server';
import { AppError } from '@autoclaw/shared';
import type { WebSocketServer } from 'ws';
import type { Logger } from './logger';

export function wsHandlerDefaults(logger: Logger, keepAliveMs = 30_000) {
  return {
    keepAlive: { enabled: true, pingMs: keepAliveMs, pongWaitMs: 10_000 },
    onError({ error, path }: { error: TRPCError; path: string | undefined }) {
      const cause = error.cause;
      const internal = AppError.is(cause) ? cause.code === 'INTERNAL' : error.code === 'INTERNAL_SERVER_ERROR';
      if (internal) logger.error('procedure failed', { path, err: cause ?? error });
    },
  };
}

/**
 * Closes every socket of `wss` with 1001 and `reason` (a peer that does not
 * answer within a second is cut), then the server itself.
 */
export async function closeAllSockets(wss: WebSocketServer, reason: string): Promise<void> {
  await Promise.all(
    [...wss.clients].map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === ws.CLOSED) return resolve();
          const force = setTimeout(() => ws.terminate(), 1_000);
          ws.once('close', () => {
            clearTimeout(force);
            resolve();
          });
          ws.close(1001, reason);
        }),
    ),
  );
  await new Promise<void>((resolve) => wss.close(() => resolve()));
}
