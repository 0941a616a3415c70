/**
 * The manager acting on a gateway through the gateway's own control plane,
 * as the privileged *manager* device: its device key is the manager's
 * Ed25519 key, registered on each gateway with a manager ticket
 * (POST /auth/ticket) the first time it is needed. Each call opens a short
 * WebSocket, authenticates with a signed challenge, runs and closes.
 *
 * Every way a gateway can refuse or fail the manager becomes one typed
 * AppError at once — RATE_LIMITED (with retryAfterMs), UNAUTHORIZED,
 * PROVIDER_UNAVAILABLE (the instance is unreachable), TIMEOUT (it accepted
 * but did not answer), or the gateway's own code — never a bare 500 and
 * never a wait until the time limit for a refusal that already came.
 */
import { randomBytes } from 'node:crypto';
import { createTRPCClient, createWSClient, TRPCClientError, wsLink } from '@trpc/client';
import type { TRPCClient } from '@trpc/client';
import { WebSocket as NodeWebSocket } from 'ws';
import { AppError, authPayload, isErrorCode, retryAfterOfReason, TICKET_TTL_MS, WS_CLOSE_RATE_LIMITED, WS_CLOSE_UNAUTHORIZED } from '@autoclaw/shared';
import type { HttpErrorBody, TicketPairRequest } from '@autoclaw/shared';
import type { AppRouter } from '../../gateway';
import { WS_PATH } from '../../gateway';
import { deviceIdFromPublicKey, encodeTicket } from '../../security';

export type GatewayClient = TRPCClient<AppRouter>;

/** What of the manager's keys a link needs. */
export interface ManagerSigner {
  /** base64url raw Ed25519 public key. */
  managerPublicKey: string;
  /** base64url Ed25519 signature of `payload` (UTF-8). */
  sign(payload: string): string;
}

export interface GatewayTarget {
  instanceId: string;
  url: string;
}

export interface GatewayLink {
  /** Runs `fn` with a client authenticated as the manager device (registering it first when needed). */
  call<T>(target: GatewayTarget, fn: (client: GatewayClient) => Promise<T>, opts?: { timeoutMs?: number }): Promise<T>;
  /** Forgets that the manager device is registered on this instance (e.g. after it was re-provisioned). */
  forget(instanceId: string): void;
}

/** When a refusal names no wait, this is the one reported (the gateway's failure window). */
const DEFAULT_RETRY_AFTER_MS = 60_000;

function unreachable(url: string, cause: unknown): AppError {
  return new AppError('PROVIDER_UNAVAILABLE', `the instance is unreachable: its gateway at ${new URL(url).origin} does not answer`, { cause });
}

function rateLimited(retryAfterMs: number | undefined, cause?: unknown): AppError {
  const wait = retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > 0 ? Math.ceil(retryAfterMs) : DEFAULT_RETRY_AFTER_MS;
  return new AppError('RATE_LIMITED', `the instance's gateway is refusing the manager for now (too many failed attempts); try again in ${Math.ceil(wait / 1000)} s`, {
    details: { retryAfterMs: wait },
    ...(cause === undefined ? {} : { cause }),
  });
}

function retryAfterHeader(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) ? seconds * 1000 : undefined;
}

/** A gateway's HTTP error answer as the AppError it means. */
function httpRefusal(url: string, res: Response, body: unknown): AppError {
  const error = (body as (HttpErrorBody & { error: { details?: { retryAfterMs?: unknown } } }) | null)?.error;
  const code = error && isErrorCode(error.code) ? error.code : null;
  if (res.status === 429 || code === 'RATE_LIMITED') {
    const fromBody = typeof error?.details?.retryAfterMs === 'number' ? error.details.retryAfterMs : undefined;
    return rateLimited(fromBody ?? retryAfterHeader(res.headers.get('retry-after')));
  }
  if (res.status >= 500 || code === null || code === 'INTERNAL') return unreachable(url, new Error(`HTTP ${res.status}`));
  return new AppError(code, `gateway: ${error?.message ?? `HTTP ${res.status}`}`);
}

async function httpJson(url: string, init: RequestInit, timeoutMs: number): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') throw new AppError('TIMEOUT', `the gateway at ${new URL(url).origin} did not answer within ${timeoutMs} ms`, { cause: err });
    throw unreachable(url, err);
  }
  const body = (await res.json().catch(() => null)) as unknown;
  if (!res.ok) throw httpRefusal(url, res, body);
  return body;
}

/** A tRPC error from the gateway's procedure, as an AppError with the gateway's code and details. */
function procedureError(err: unknown): unknown {
  if (AppError.is(err) || !(err instanceof TRPCClientError)) return err;
  const data = (err as TRPCClientError<AppRouter>).data as { appCode?: unknown; details?: unknown } | undefined;
  const code = data?.appCode;
  if (!isErrorCode(code)) return new AppError('PROVIDER_UNAVAILABLE', `the instance's gateway failed the call: ${err.message}`, { cause: err });
  if (code === 'RATE_LIMITED') return rateLimited((data?.details as { retryAfterMs?: number } | undefined)?.retryAfterMs, err);
  if (code === 'INTERNAL') return new AppError('PROVIDER_UNAVAILABLE', "the instance's gateway failed the call (internal error)", { cause: err });
  const details = data?.details && typeof data.details === 'object' ? (data.details as Record<string, unknown>) : undefined;
  return new AppError(code, `gateway: ${err.message}`, { cause: err, ...(details ? { details } : {}) });
}

/** Signs a fresh challenge of `url` with `sign` for the device of `publicKey`. */
export async function signChallenge(url: string, publicKey: string, sign: (payload: string) => string, now: () => number, headers: Record<string, string> = {}) {
  const body = (await httpJson(`${url}/auth/challenge`, { method: 'GET', headers }, 5_000)) as { nonce?: unknown };
  if (typeof body.nonce !== 'string') throw new AppError('PROVIDER_UNAVAILABLE', 'the gateway sent an unreadable challenge');
  const deviceId = deviceIdFromPublicKey(publicKey);
  const timestamp = now();
  return { deviceId, nonce: body.nonce, timestamp, signature: sign(authPayload(body.nonce, deviceId, timestamp)) };
}

/** Redeems a pairing ticket at the gateway (POST /auth/ticket) for the device of `publicKey`. */
export async function pairWithTicket(
  url: string,
  ticket: string,
  device: { publicKey: string; sign(payload: string): string },
  now: () => number = Date.now,
  /** E.g. `authorization: Bearer <manager session>` through the manager's door. */
  headers: Record<string, string> = {},
): Promise<{ deviceId: string }> {
  const proof = await signChallenge(url, device.publicKey, device.sign, now, headers);
  const body: TicketPairRequest = { ticket, publicKey: device.publicKey, nonce: proof.nonce, timestamp: proof.timestamp, signature: proof.signature };
  const answer = (await httpJson(`${url}/auth/ticket`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) }, 5_000)) as {
    deviceId?: unknown;
  };
  if (typeof answer.deviceId !== 'string') throw new AppError('PROVIDER_UNAVAILABLE', 'the gateway sent an unreadable pairing answer');
  return { deviceId: answer.deviceId };
}

export function createGatewayLink(deps: { keys: ManagerSigner; now: () => number; timeoutMs?: number }): GatewayLink {
  const { keys, now } = deps;
  const registered = new Set<string>();
  const deviceId = deviceIdFromPublicKey(keys.managerPublicKey);
  const device = { publicKey: keys.managerPublicKey, sign: keys.sign };

  async function register(target: GatewayTarget): Promise<void> {
    const at = now();
    const ticket = encodeTicket(
      {
        v: 1,
        jti: randomBytes(16).toString('base64url'),
        instanceId: target.instanceId,
        devicePublicKey: keys.managerPublicKey,
        deviceName: 'AutoClaw manager',
        kind: 'manager',
        iat: at,
        exp: at + TICKET_TTL_MS,
      },
      keys.sign,
    );
    await pairWithTicket(target.url, ticket, device, now);
    registered.add(target.instanceId);
  }

  async function once<T>(target: GatewayTarget, fn: (client: GatewayClient) => Promise<T>, timeoutMs: number): Promise<T> {
    let refuse: (err: unknown) => void = () => {};
    const refused = new Promise<never>((_, reject) => {
      refuse = reject;
    });
    refused.catch(() => {});
    let opened = false;
    const wsClient = createWSClient({
      url: `${target.url.replace(/^http/, 'ws')}${WS_PATH}`,
      WebSocket: NodeWebSocket as unknown as typeof WebSocket,
      connectionParams: async () => {
        try {
          const proof = await signChallenge(target.url, keys.managerPublicKey, keys.sign, now);
          return { deviceId, nonce: proof.nonce, timestamp: String(proof.timestamp), signature: proof.signature };
        } catch (err) {
          refuse(err);
          throw err;
        }
      },
      retryDelayMs: () => 200,
      onOpen: () => {
        opened = true;
      },
      onClose: (cause) => {
        const code = cause?.code;
        // The close event carries the gateway's reason (a rate limit names its wait).
        const reason = (cause as { reason?: unknown } | undefined)?.reason;
        if (code === WS_CLOSE_UNAUTHORIZED) refuse(new AppError('UNAUTHORIZED', 'the gateway refused the manager device'));
        else if (code === WS_CLOSE_RATE_LIMITED) refuse(rateLimited(typeof reason === 'string' ? (retryAfterOfReason(reason) ?? undefined) : undefined));
        // Closed before it ever opened: nothing listens there (or the upgrade was refused).
        else if (!opened) refuse(unreachable(target.url, new Error(`WebSocket closed (${code ?? 'no code'})`)));
      },
    });
    const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AppError('TIMEOUT', `the gateway of ${target.instanceId} did not answer within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    });
    let answered = false;
    try {
      const out = await Promise.race([fn(client).catch((err: unknown) => Promise.reject(procedureError(err))), refused, timeout]);
      answered = true;
      return out;
    } finally {
      clearTimeout(timer);
      // close() waits for calls still in flight: after a refusal or a time-out, drop the socket first so it does not wait for a gateway that will not answer.
      if (!answered) (wsClient as unknown as { connection?: { ws?: { close(): void } } | null }).connection?.ws?.close();
      await wsClient.close();
    }
  }

  return {
    async call(target, fn, opts = {}) {
      const timeoutMs = opts.timeoutMs ?? deps.timeoutMs ?? 10_000;
      if (!registered.has(target.instanceId)) await register(target);
      try {
        return await once(target, fn, timeoutMs);
      } catch (err) {
        // The gateway may have lost the registration (data reset): register again, once.
        if (!AppError.is(err, 'UNAUTHORIZED')) throw err;
        registered.delete(target.instanceId);
        await register(target);
        return once(target, fn, timeoutMs);
      }
    },
    forget(instanceId) {
      registered.delete(instanceId);
    },
  };
}
