/**
 * The device handshake, shared by every client. The gateway hands out a
 * single-use nonce (GET /auth/challenge); the client signs
 * `autoclaw-auth/v1`, the nonce, its device id and a timestamp with its
 * Ed25519 key and sends the result as tRPC connectionParams over the
 * WebSocket at /trpc. A stale timestamp, a reused nonce or another device's
 * signature is refused and the socket closed with WS_CLOSE_UNAUTHORIZED.
 * A new device first pairs with a one-time code through POST /auth/pair.
 */
export const AUTH_CONTEXT = 'autoclaw-auth/v1';
/** How far a signed timestamp may be from the gateway's clock. */
export const AUTH_MAX_SKEW_MS = 60_000;
/** How long a nonce stays valid. */
export const NONCE_TTL_MS = 60_000;

export interface ChallengeResponse {
  nonce: string;
  expiresAt: number;
}

/** The payload both sides build byte-for-byte. */
export function authPayload(nonce: string, deviceId: string, timestamp: number): string {
  return `${AUTH_CONTEXT}\n${nonce}\n${deviceId}\n${timestamp}`;
}

/** connectionParams of an already paired device. */
export interface DeviceAuthParams {
  deviceId: string;
  nonce: string;
  timestamp: string;
  /** base64url Ed25519 signature of authPayload(...). */
  signature: string;
  [key: string]: string;
}


/**
 * A device id is derived from its public key: base64url (no padding) of the
 * SHA-256 of the raw 32-byte Ed25519 public key, first 22 characters.
 * Both sides compute it (node:crypto / WebCrypto); the gateway never trusts
 * an id that does not match the key.
 */
export const DEVICE_ID_CHARS = 22;

/** Body of POST /auth/pair: pairs a new device with a one-time code. */
export interface PairRequest {
  pairingCode: string;
  /** base64url raw 32-byte Ed25519 public key. */
  publicKey: string;
  deviceName: string;
  /** From GET /auth/challenge; the signature proves possession of the key. */
  nonce: string;
  timestamp: number;
  /** base64url signature of authPayload(nonce, deviceId, timestamp). */
  signature: string;
}

export interface PairResponse {
  deviceId: string;
}

/** Body of every non-2xx HTTP answer of the gateway. */
export interface HttpErrorBody {
  /** `details`: extra, non-secret facts such as `retryAfterMs` of a RATE_LIMITED answer. */
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** WebSocket close code when a device is unknown, revoked or its proof is bad. */
export const WS_CLOSE_UNAUTHORIZED = 4401;
/**
 * WebSocket close code when too many handshakes failed from one address; the
 * reason ends with `retry after N ms` (see retryAfterOfReason).
 */
export const WS_CLOSE_RATE_LIMITED = 4429;
/** The manager's door refused the caller (no proof of the owner's account, or another account's); the reason says which. Nothing was forwarded or woken. */
export const WS_CLOSE_DOOR_REFUSED = 4403;
/** The manager's door could not wake the instance (its state is now `failed`); the reason says why. */
export const WS_CLOSE_WAKE_FAILED = 4503;

/** The close reason of a WS_CLOSE_RATE_LIMITED socket; clients read the wait back with retryAfterOfReason. */
export function rateLimitedReason(retryAfterMs: number): string {
  return `too many failed attempts; retry after ${Math.ceil(retryAfterMs)} ms`;
}

/** The wait a WS_CLOSE_RATE_LIMITED close reason names, or null. */
export function retryAfterOfReason(reason: string): number | null {
  const m = /retry after (\d{1,9}) ms/.exec(reason);
  return m ? Number(m[1]) : null;
}
