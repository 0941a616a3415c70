import { createTRPCClient, createWSClient, wsLink, type TRPCClient } from '@trpc/client';
import { WS_CLOSE_DOOR_REFUSED, WS_CLOSE_RATE_LIMITED, WS_CLOSE_UNAUTHORIZED, WS_CLOSE_WAKE_FAILED, type DeviceAuthParams } from '@autoclaw/shared';
import type { AppRouter } from '@autoclaw/server/router';
import type { DeviceIdentity } from './device-identity';
import { PairError, fetchChallenge } from './gateway-http';

export type GatewayClient = TRPCClient<AppRouter>;

export type ConnectionStatus =
  /** First attempt since the page opened. */
  | 'connecting'
  | 'online'
  /** Was online (or tried), lost it; reconnecting with backoff. */
  | 'offline'
  /** The gateway refuses handshakes from this address for a while. */
  | 'rate_limited'
  /** This device is unknown or revoked: no more attempts, pair again. */
  | 'unauthorized'
  /** The manager's door could not wake the instance (the detail says why); retrying with backoff. */
  | 'wake_failed'
  /** The manager's door refused this account (the detail says why): no more attempts. */
  | 'refused';

export interface GatewayConnection {
  readonly client: GatewayClient;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /**
   * From gatewaySocketUrl(location) or the manager's door (socketUrlOf(door)
   * with a fresh door pass: a function, read at every connect); never from
   * anything a link can set.
   */
  url: string | (() => Promise<string>);
  identity: DeviceIdentity;
  fetch: typeof fetch;
  now: () => number;
  /** `detail`: the reason of a wake_failed or refused status. */
  onStatus: (status: ConnectionStatus, detail?: string) => void;
}

/** Quick first retries (a blip), then at most every 5 s; slower while rate-limited. */
function retryDelay(rateLimited: () => boolean): (attempt: number) => number {
  return (attempt) => (rateLimited() ? 15_000 : Math.min(250 * 2 ** attempt, 5_000));
}

/**
 * Opens the authenticated tRPC WebSocket. Every (re)connect signs a fresh
 * nonce from /auth/challenge with the device key; subscriptions resume with
 * their last event id after a reconnect (tRPC's wsLink does that).
 */
export function connectGateway(options: ConnectOptions): GatewayConnection {
  let status: ConnectionStatus = 'connecting';
  let rateLimited = false;
  let everOnline = false;
  let closedForGood = false;
  /** A failed wake stays the news until the connection is back (later attempts only see a refused upgrade). */
  let wakeFailed = false;

  const report = (next: ConnectionStatus, detail?: string): void => {
    if (closedForGood && next !== 'unauthorized' && next !== 'refused') return;
    if (wakeFailed && next !== 'online' && next !== 'wake_failed') return;
    if (next === status && detail === undefined) return;
    status = next;
    options.onStatus(next, detail);
  };

  const connectionParams = async (): Promise<DeviceAuthParams> => {
    try {
      const { nonce } = await fetchChallenge(options.fetch);
      const timestamp = options.now();
      const signature = await options.identity.signChallenge(nonce, timestamp);
      return { deviceId: options.identity.deviceId, nonce, timestamp: String(timestamp), signature };
    } catch (error) {
      if (error instanceof PairError && error.failure.kind === 'rate_limited') {
        rateLimited = true;
        report('rate_limited');
      }
      throw error;
    }
  };

  const wsClient = createWSClient({
    url: options.url,
    connectionParams,
    retryDelayMs: retryDelay(() => rateLimited),
    // Notices a dead connection (laptop sleep, network switch) that never sent a close frame.
    keepAlive: { enabled: true, intervalMs: 10_000, pongTimeoutMs: 5_000 },
    onClose: (cause) => {
      // tRPC hands over the CloseEvent; its type names only the code.
      const reason = (cause as { reason?: unknown } | undefined)?.reason;
      const detail = typeof reason === 'string' ? reason : '';
      if (cause?.code === WS_CLOSE_UNAUTHORIZED) {
        closedForGood = true;
        report('unauthorized');
        void wsClient.close();
      } else if (cause?.code === WS_CLOSE_DOOR_REFUSED) {
        closedForGood = true;
        report('refused', detail);
        void wsClient.close();
      } else if (cause?.code === WS_CLOSE_WAKE_FAILED) {
        report('wake_failed', detail);
        wakeFailed = true;
      } else if (cause?.code === WS_CLOSE_RATE_LIMITED) {
        rateLimited = true;
        report('rate_limited');
      }
    },
  });

  const stateSubscription = wsClient.connectionState.subscribe({
    next: (state) => {
      if (state.state === 'pending') {
        everOnline = true;
        rateLimited = false;
        wakeFailed = false;
        report('online');
      } else if (state.state === 'connecting') {
        if (rateLimited) report('rate_limited');
        else report(everOnline || state.error ? 'offline' : 'connecting');
      }
    },
  });

  const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });

  return {
    client,
    async close() {
      closedForGood = true;
      stateSubscription.unsubscribe();
      await wsClient.close();
    },
  };
}
