/**
 * The manager acting on a gateway through the gateway's own control plane,
 * as the privileged *manager* device: its device key is the manager's
 * Ed25519 key, registered on each gateway with a manager ticket
 * (POST /auth/ticket) the first time it is needed. Each call opens a short
 * WebSocket, authenticates with a signed challenge, runs and closes.
 */
import { randomBytes } from 'node:crypto';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import type { TRPCClient } from '@trpc/client';
import { WebSocket as NodeWebSocket } from 'ws';
import { AppError, authPayload, TICKET_TTL_MS, WS_CLOSE_UNAUTHORIZED } from '@autoclaw/shared';
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

async function httpJson(url: string, init: RequestInit, timeoutMs: number): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new AppError('PROVIDER_UNAVAILABLE', `cannot reach the gateway at ${new URL(url).origin}`, { cause: err });
  }
  const body = (await res.json().catch(() => null)) as unknown;
  if (!res.ok) {
    const error = (body as HttpErrorBody | null)?.error;
    const code = error && typeof error.code === 'string' && error.code !== 'INTERNAL' ? error.code : 'INTERNAL';
    throw new AppError(code as AppError['code'], `gateway: ${error?.message ?? `HTTP ${res.status}`}`);
  }
  return body;
}

/** Signs a fresh challenge of `url` with `sign` for the device of `publicKey`. */
export async function signChallenge(url: string, publicKey: string, sign: (payload: string) => string, now: () => number) {
  const body = (await httpJson(`${url}/auth/challenge`, { method: 'GET' }, 5_000)) as { nonce?: unknown };
  if (typeof body.nonce !== 'string') throw new AppError('INTERNAL', 'the gateway sent an unreadable challenge');
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
): Promise<{ deviceId: string }> {
  const proof = await signChallenge(url, device.publicKey, device.sign, now);
  const body: TicketPairRequest = { ticket, publicKey: device.publicKey, nonce: proof.nonce, timestamp: proof.timestamp, signature: proof.signature };
  const answer = (await httpJson(`${url}/auth/ticket`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, 5_000)) as {
    deviceId?: unknown;
  };
  if (typeof answer.deviceId !== 'string') throw new AppError('INTERNAL', 'the gateway sent an unreadable pairing answer');
  return { deviceId: answer.deviceId };
}

export function createGatewayLink(deps: { keys: ManagerSigner; now: () => number }): GatewayLink {
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
    let refuse: (err: AppError) => void = () => {};
    const refused = new Promise<never>((_, reject) => {
      refuse = reject;
    });
    refused.catch(() => {});
    const wsClient = createWSClient({
      url: `${target.url.replace(/^http/, 'ws')}${WS_PATH}`,
      WebSocket: NodeWebSocket as unknown as typeof WebSocket,
      connectionParams: async () => {
        const proof = await signChallenge(target.url, keys.managerPublicKey, keys.sign, now);
        return { deviceId, nonce: proof.nonce, timestamp: String(proof.timestamp), signature: proof.signature };
      },
      retryDelayMs: () => 200,
      onClose: (cause) => {
        if (cause?.code === WS_CLOSE_UNAUTHORIZED) refuse(new AppError('UNAUTHORIZED', 'the gateway refused the manager device'));
      },
    });
    const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AppError('TIMEOUT', `the gateway of ${target.instanceId} did not answer in time`)), timeoutMs);
    });
    try {
      return await Promise.race([fn(client), refused, timeout]);
    } finally {
      clearTimeout(timer);
      await wsClient.close();
    }
  }

  return {
    async call(target, fn, opts = {}) {
      const timeoutMs = opts.timeoutMs ?? 10_000;
      if (!registered.has(target.instanceId)) await register(target);
      try {
        return await once(target, fn, timeoutMs);
      } catch (err) {
        // The gateway may have lost the registration (data reset): register again, once.
        if (!AppError.is(err, 'UNAUTHORIZED') && (err as { data?: { appCode?: string } }).data?.appCode !== 'UNAUTHORIZED') throw err;
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
