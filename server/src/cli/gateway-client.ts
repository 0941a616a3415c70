/**
 * A Node client of a gateway, authenticated as a device (the CLI uses the
 * local operator device): fetches a challenge, signs it, and opens the tRPC
 * WebSocket with the proof as connectionParams. A close with
 * WS_CLOSE_UNAUTHORIZED / WS_CLOSE_RATE_LIMITED ends the connection for good
 * instead of reconnecting.
 */
import { request } from 'node:http';
import { createTRPCClient, createWSClient, TRPCClientError, wsLink } from '@trpc/client';
import type { TRPCClient } from '@trpc/client';
import { WebSocket as NodeWebSocket } from 'ws';
import { AppError, authPayload, retryAfterOfReason, WS_CLOSE_RATE_LIMITED, WS_CLOSE_UNAUTHORIZED } from '@autoclaw/shared';
import type { ChallengeResponse, DeviceAuthParams } from '@autoclaw/shared';
import type { AppRouter } from '../gateway';
import { WS_PATH } from '../gateway';
import { signPayload } from '../security';
import type { DeviceKeyPair } from '../security';

export interface GatewayConnection {
  client: TRPCClient<AppRouter>;
  /** Rejects when the gateway closes the connection for good (unauthorized, rate limited) or cannot be reached. */
  readonly failed: Promise<never>;
  /**
   * Awaits a call, or the connection's end; a call cut off by that end
   * rejects with the reason the connection ended (e.g. UNAUTHORIZED).
   */
  call<T>(pending: Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** http://host:port of the gateway. */
  url: string;
  key: DeviceKeyPair;
  now?: () => number;
  /** Gives up when the gateway cannot be reached this many times in a row (default 3). */
  maxConnectAttempts?: number;
  /** An opening handshake not complete by then fails, as one failed attempt (default 10 s). */
  handshakeTimeoutMs?: number;
  /** Sent with the challenge and the upgrade, e.g. `authorization: Bearer <manager session>` through the manager's door. */
  headers?: Record<string, string>;
}

/** GET /auth/challenge over plain node:http (cheaper to load than fetch). */
export function fetchChallenge(url: string, headers: Record<string, string> = {}): Promise<ChallengeResponse> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/auth/challenge`, { method: 'GET', timeout: 5_000, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Partial<ChallengeResponse>;
          if (res.statusCode !== 200 || typeof body.nonce !== 'string') {
            reject(new AppError('UNAUTHORIZED', `the gateway refused a challenge (HTTP ${res.statusCode ?? '?'})`));
            return;
          }
          resolve({ nonce: body.nonce, expiresAt: Number(body.expiresAt) });
        } catch (err) {
          reject(new AppError('INTERNAL', 'the gateway sent an unreadable challenge', { cause: err }));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) => reject(new AppError('NOT_FOUND', `cannot reach the gateway at ${url}: ${err.message}`)));
    req.end();
  });
}

export async function deviceAuthParams(url: string, key: DeviceKeyPair, now: () => number, headers?: Record<string, string>): Promise<DeviceAuthParams> {
  return signChallenge(await fetchChallenge(url, headers), key, now);
}

function signChallenge({ nonce }: ChallengeResponse, key: DeviceKeyPair, now: () => number): DeviceAuthParams {
  const timestamp = now();
  return {
    deviceId: key.deviceId,
    nonce,
    timestamp: String(timestamp),
    signature: signPayload(key.privateKey, authPayload(nonce, key.deviceId, timestamp)),
  };
}

/** A challenge fetched ahead is used only this soon after it was asked for (well within the nonce's lifetime). */
const PREFETCH_FRESH_MS = 5_000;

/**
 * ws's WebSocket with a time limit on its opening handshake (a port that a
 * process which never answers took over would otherwise hold a reconnect
 * forever), sending `headers` with its upgrade.
 */
function socketClass(headers: Record<string, string>, handshakeTimeout: number): typeof NodeWebSocket {
  return class extends NodeWebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers, handshakeTimeout });
    }
  } as typeof NodeWebSocket;
}

export function connectAsDevice(opts: ConnectOptions): GatewayConnection {
  const now = opts.now ?? Date.now;
  const maxAttempts = opts.maxConnectAttempts ?? 3;
  let fail: (err: AppError) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  // Callers race against it; an unobserved rejection must not crash the process.
  failed.catch(() => {});
  let failures = 0;
  let closedForGood = false;
  let failure: AppError | null = null;
  const giveUp = (err: AppError) => {
    if (closedForGood) return;
    closedForGood = true;
    failure = err;
    fail(err);
    void wsClient.close();
  };

  // The first challenge is asked for while the WebSocket opens (tRPC asks for
  // connectionParams only once it is open): one round trip less per connect.
  // A reconnect, or a first open that came late, asks for a fresh one.
  const askedAt = now();
  let prefetched: Promise<ChallengeResponse | null> | null = fetchChallenge(opts.url, opts.headers).catch(() => null);
  const challenge = async (): Promise<ChallengeResponse> => {
    const ahead = prefetched;
    prefetched = null;
    const early = ahead && now() - askedAt < PREFETCH_FRESH_MS ? await ahead : null;
    return early ?? (await fetchChallenge(opts.url, opts.headers));
  };

  const wsClient = createWSClient({
    url: `${opts.url.replace(/^http/, 'ws')}${WS_PATH}`,
    // ws's WebSocket implements the browser interface tRPC expects.
    WebSocket: socketClass(opts.headers ?? {}, opts.handshakeTimeoutMs ?? 10_000) as unknown as typeof WebSocket,
    connectionParams: async () => {
      try {
        return signChallenge(await challenge(), opts.key, now);
      } catch (err) {
        if (++failures >= maxAttempts) giveUp(AppError.is(err) ? err : new AppError('NOT_FOUND', `cannot reach the gateway at ${opts.url}`));
        throw err;
      }
    },
    retryDelayMs: (attempt) => Math.min(100 * 2 ** attempt, 1_000),
    onOpen: () => {
      failures = 0;
    },
    onClose: (cause) => {
      const code = cause?.code;
      if (code === WS_CLOSE_UNAUTHORIZED) {
        giveUp(new AppError('UNAUTHORIZED', 'the gateway refused this device (unknown, revoked or bad proof)'));
      } else if (code === WS_CLOSE_RATE_LIMITED) {
        // tRPC passes the CloseEvent itself; its type only names `code`.
        const wait = retryAfterOfReason((cause as { reason?: unknown } | undefined)?.reason?.toString() ?? '');
        giveUp(
          new AppError('RATE_LIMITED', `the gateway slows this address down after failed attempts${wait === null ? '' : `; retry in ${Math.ceil(wait / 1000)} s`}`, {
            details: wait === null ? {} : { retryAfterMs: wait },
          }),
        );
      } else if (++failures >= maxAttempts) {
        giveUp(new AppError('NOT_FOUND', `lost the connection to the gateway at ${opts.url}`));
      }
    },
  });
  const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
  return {
    client,
    failed,
    async call(pending) {
      try {
        return await Promise.race([pending, failed]);
      } catch (err) {
        if (failure) throw failure;
        // The close event that says why may come just after the call fails.
        let timer: NodeJS.Timeout | undefined;
        const late = await Promise.race([
          failed.catch((e: unknown) => e),
          new Promise<null>((resolve) => {
            timer = setTimeout(() => resolve(null), 250);
          }),
        ]);
        clearTimeout(timer);
        if (late) throw late;
        // A call the socket's end cut off carries the close event, not an
        // answer of the gateway (which has a shape): say what happened.
        if (err instanceof TRPCClientError && err.shape === undefined && err.data === undefined) {
          throw new AppError('NOT_FOUND', `lost the connection to the gateway at ${opts.url}`, { cause: err });
        }
        throw err;
      }
    },
    async close() {
      closedForGood = true;
      await wsClient.close();
    },
  };
}
