/**
 * The manager's tRPC over WebSocket (its /trpc). WebSockets are not subject
 * to CORS, so the same client works from the manager's own origin and from
 * the desktop app's app:// origin; the manager checks the Origin header.
 * Signed out, the socket sends no connectionParams (only public procedures
 * work); signed in, it sends `{ token }` with the newest token on every
 * (re)connect. The manager closes a socket whose session ended with
 * MANAGER_WS_CLOSE_UNAUTHORIZED.
 */
import { createTRPCClient, createWSClient, wsLink, type TRPCClient } from '@trpc/client';
import { MANAGER_WS_CLOSE_UNAUTHORIZED, type ManagerConnectionParams } from '@autoclaw/shared';
import type { ManagerRouter } from '@autoclaw/server/manager-router';
import { socketUrlOf } from './service-url';

export type ManagerClient = TRPCClient<ManagerRouter>;

export type ManagerStatus = 'connecting' | 'online' | 'offline';

export interface ManagerConnection {
  readonly client: ManagerClient;
  close(): Promise<void>;
}

export interface ManagerConnectOptions {
  /** The manager's origin (see app-mode.ts). */
  managerUrl: string;
  /** The current session token, read at every (re)connect; omit for a signed-out socket. */
  token?: () => string | null;
  onStatus?: (status: ManagerStatus) => void;
  /** The manager ended this socket's session (signed out elsewhere, revoked, expired). */
  onSessionEnded?: (reason: string) => void;
}

export function connectManager(options: ManagerConnectOptions): ManagerConnection {
  let everOnline = false;
  let ended = false;
  const readToken = options.token;
  const connectionParams = readToken
    ? async (): Promise<ManagerConnectionParams> => {
        const token = readToken();
        if (token === null) throw new Error('signed out');
        return { token };
      }
    : undefined;

  const wsClient = createWSClient({
    url: socketUrlOf(options.managerUrl),
    ...(connectionParams ? { connectionParams } : {}),
    retryDelayMs: (attempt) => Math.min(250 * 2 ** attempt, 5_000),
    keepAlive: { enabled: true, intervalMs: 15_000, pongTimeoutMs: 5_000 },
    onClose: (cause) => {
      if (cause?.code === MANAGER_WS_CLOSE_UNAUTHORIZED && !ended) {
        ended = true;
        options.onSessionEnded?.('Your session ended. Sign in again.');
        void wsClient.close();
      }
    },
  });

  const stateSubscription = wsClient.connectionState.subscribe({
    next: (state) => {
      if (ended) return;
      if (state.state === 'pending') {
        everOnline = true;
        options.onStatus?.('online');
      } else if (state.state === 'connecting') {
        options.onStatus?.(everOnline || state.error ? 'offline' : 'connecting');
      }
    },
  });

  return {
    client: createTRPCClient<ManagerRouter>({ links: [wsLink({ client: wsClient })] }),
    async close() {
      ended = true;
      stateSubscription.unsubscribe();
      await wsClient.close();
    },
  };
}
