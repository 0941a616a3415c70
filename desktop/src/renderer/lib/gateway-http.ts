import type { ChallengeResponse, HttpErrorBody, PairRequest, PairResponse } from '@autoclaw/shared';
import type { DeviceIdentity } from './device-identity';

/** Why a pairing attempt failed, in terms the pairing screen can explain. */
export type PairFailure =
  | { kind: 'bad_code'; message: string }
  | { kind: 'rate_limited'; message: string }
  | { kind: 'forbidden'; message: string }
  /** The gateway revoked this device key: only a new key can pair again. */
  | { kind: 'revoked'; message: string }
  | { kind: 'unreachable'; message: string }
  | { kind: 'other'; message: string };

export class PairError extends Error {
  readonly failure: PairFailure;
  constructor(failure: PairFailure) {
    super(failure.message);
    this.name = 'PairError';
    this.failure = failure;
  }
}

type Fetch = typeof fetch;

function isHttpErrorBody(value: unknown): value is HttpErrorBody {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false;
  const error: unknown = value.error;
  return typeof error === 'object' && error !== null && 'code' in error && 'message' in error;
}

async function readError(response: Response): Promise<{ code: string; message: string; retryAfterMs?: number }> {
  const body: unknown = await response.json().catch(() => null);
  if (isHttpErrorBody(body)) {
    const wait = body.error.details?.['retryAfterMs'];
    return { code: String(body.error.code), message: String(body.error.message), ...(typeof wait === 'number' ? { retryAfterMs: wait } : {}) };
  }
  return { code: `HTTP_${response.status}`, message: response.statusText || `HTTP ${response.status}` };
}

/** Same-origin request: the page only ever talks to the gateway that served it. */
async function call(fetchImpl: Fetch, path: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetchImpl(path, { ...init, credentials: 'omit', cache: 'no-store' });
  } catch {
    throw new PairError({ kind: 'unreachable', message: 'Cannot reach the gateway. Is it running?' });
  }
}

export async function fetchChallenge(fetchImpl: Fetch): Promise<ChallengeResponse> {
  const response = await call(fetchImpl, '/auth/challenge');
  if (!response.ok) {
    const error = await readError(response);
    throw new PairError(classify(response.status, error.code, error.message, error.retryAfterMs));
  }
  return (await response.json()) as ChallengeResponse;
}

export function classify(status: number, code: string, message: string, retryAfterMs?: number): PairFailure {
  if (status === 429 || code === 'RATE_LIMITED') {
    const wait = retryAfterMs === undefined ? 'a moment' : `${Math.max(1, Math.ceil(retryAfterMs / 1000))} s`;
    return { kind: 'rate_limited', message: `Too many failed attempts from this address. Wait ${wait}, then try again.` };
  }
  if (code === 'FORBIDDEN' && /revoked/i.test(message)) {
    return { kind: 'revoked', message: 'This device was revoked. It can pair again only with a new key.' };
  }
  if (code === 'FORBIDDEN' && /origin/i.test(message)) {
    return { kind: 'forbidden', message: `The gateway does not accept pages from this address (${location()}): ${message}` };
  }
  if ((code === 'UNAUTHORIZED' || code === 'BAD_REQUEST' || code === 'NOT_FOUND') && /code/i.test(message)) {
    return { kind: 'bad_code', message: 'That code is wrong, expired or already used. Get a new one with `autoclaw pair --data DIR`.' };
  }
  if (/timestamp|clock/i.test(message)) {
    return { kind: 'other', message: "This computer's clock is more than a minute off the gateway's. Fix the time and try again." };
  }
  return { kind: 'other', message: `Pairing failed: ${message}` };
}

function location(): string {
  return typeof globalThis.location === 'object' ? globalThis.location.origin : 'this page';
}

/** How a browser is named in the devices list. */
export function deviceName(userAgent: string): string {
  const browser = /Edg\//.test(userAgent) ? 'Edge' : /Firefox\//.test(userAgent) ? 'Firefox' : /Chrom/.test(userAgent) ? 'Chromium' : /Safari\//.test(userAgent) ? 'Safari' : 'Browser';
  const os = /Windows/.test(userAgent) ? 'Windows' : /Mac OS/.test(userAgent) ? 'macOS' : /Android/.test(userAgent) ? 'Android' : /Linux/.test(userAgent) ? 'Linux' : /iPhone|iPad/.test(userAgent) ? 'iOS' : 'unknown OS';
  return `WebChat (${browser} on ${os})`;
}

/** Pairs this browser's key with the gateway using a one-time code. */
export async function pairDevice(
  fetchImpl: Fetch,
  identity: DeviceIdentity,
  pairingCode: string,
  now: () => number,
  userAgent: string,
): Promise<PairResponse> {
  const { nonce } = await fetchChallenge(fetchImpl);
  const timestamp = now();
  const body: PairRequest = {
    pairingCode,
    publicKey: identity.publicKey,
    deviceName: deviceName(userAgent),
    nonce,
    timestamp,
    signature: await identity.signChallenge(nonce, timestamp),
  };
  const response = await call(fetchImpl, '/auth/pair', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    const error = await readError(response);
    throw new PairError(classify(response.status, error.code, error.message, error.retryAfterMs));
  }
  return (await response.json()) as PairResponse;
}
