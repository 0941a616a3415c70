/**
 * What the gateway's and the manager's WebSocket endpoints give tRPC besides
 * their router and context: keep-alive pings (a dead peer is noticed within
 * a ping and a pong wait), and one log line for internal failures only —
 * a refused or invalid call is the caller's business, not an error here.
 */
import type { TRPCError } from '@trpc/server';
import { AppError } from '@autoclaw/shared';
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
