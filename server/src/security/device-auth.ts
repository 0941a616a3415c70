/**
 * Proof of possession for devices: pairing a new device with a one-time code
 * (POST /auth/pair) and authenticating a paired one (WebSocket
 * connectionParams). Both check a single-use nonce, the timestamp skew and an
 * Ed25519 signature over `authPayload(nonce, deviceId, timestamp)`.
 * Every refusal is an AppError; the caller counts it for rate limiting.
 */
import { z } from 'zod';
import { AppError, AUTH_MAX_SKEW_MS, authPayload } from '@autoclaw/shared';
import type { DeviceRecord, Store } from '../store';
import type { NonceStore } from './nonces';
import { deviceIdFromPublicKey, parsePublicKey, verifyPayload } from './device-keys';
import { consumePairingCode } from './pairing-code';
import { roleForPairing } from './roles';

export interface DeviceAuthDeps {
  store: Store;
  nonces: NonceStore;
  now: () => number;
}

const DeviceName = z
  .string()
  .trim()
  .min(1, 'deviceName is empty')
  .max(80)
  .regex(/^\P{Cc}+$/u, 'deviceName has control characters');
const Token = z.string().min(1).max(128);

export const DeviceAuthParamsSchema = z.object({
  deviceId: z.string().min(1).max(64),
  nonce: Token,
  timestamp: z.string().regex(/^\d{1,15}$/, 'timestamp must be milliseconds since the epoch'),
  signature: Token,
});

export const PairRequestSchema = z
  .object({
    pairingCode: z.string().min(1).max(32),
    publicKey: z.string().min(1).max(64),
    deviceName: DeviceName,
    nonce: Token,
    timestamp: z.number().int().nonnegative(),
    signature: Token,
  })
  .strict();

function unauthorized(message: string): AppError {
  return new AppError('UNAUTHORIZED', message);
}

function checkChallenge(deps: DeviceAuthDeps, nonce: string, timestamp: number): void {
  if (!deps.nonces.consume(nonce)) throw unauthorized('challenge is unknown, expired or already used');
  if (Math.abs(deps.now() - timestamp) > AUTH_MAX_SKEW_MS) {
    throw unauthorized('timestamp is too far from the gateway clock');
  }
}

/** Authenticates a paired device from its connectionParams; returns its record. */
export function verifyDeviceAuth(deps: DeviceAuthDeps, params: unknown): DeviceRecord {
  const parsed = DeviceAuthParamsSchema.safeParse(params ?? undefined);
  if (!parsed.success) throw unauthorized('missing or malformed device credentials');
  const { deviceId, nonce, signature } = parsed.data;
  const timestamp = Number(parsed.data.timestamp);
  const device = deps.store.getDevice(deviceId);
  // The nonce is spent whatever happens next, so a refused proof cannot be replayed.
  const nonceOk = deps.nonces.consume(nonce);
  if (!device) throw unauthorized('unknown device');
  if (device.revokedAt !== null) throw unauthorized('device was revoked');
  if (!nonceOk) throw unauthorized('challenge is unknown, expired or already used');
  if (Math.abs(deps.now() - timestamp) > AUTH_MAX_SKEW_MS) {
    throw unauthorized('timestamp is too far from the gateway clock');
  }
  const key = parsePublicKey(device.publicKey);
  if (!key || deviceIdFromPublicKey(device.publicKey) !== device.id) throw unauthorized('device key is invalid');
  if (!verifyPayload(key, authPayload(nonce, deviceId, timestamp), signature)) {
    throw unauthorized('signature does not match the device key');
  }
  deps.store.touchDevice(device.id);
  return device;
}

/** Pairs a new device (kind `client`) with a one-time code; its role comes from the code (see roleForPairing). */
export function pairDevice(deps: DeviceAuthDeps, body: unknown): { deviceId: string } {
  const parsed = PairRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw new AppError('BAD_REQUEST', `invalid pairing request: ${where}${issue?.message ?? 'malformed'}`);
  }
  const req = parsed.data;
  const key = parsePublicKey(req.publicKey);
  if (!key) throw new AppError('BAD_REQUEST', 'publicKey is not a base64url raw Ed25519 public key');
  const deviceId = deviceIdFromPublicKey(req.publicKey);
  checkChallenge(deps, req.nonce, req.timestamp);
  if (!verifyPayload(key, authPayload(req.nonce, deviceId, req.timestamp), req.signature)) {
    throw unauthorized('signature does not match the public key');
  }
  const existing = deps.store.getDevice(deviceId);
  if (existing?.revokedAt != null) throw new AppError('FORBIDDEN', 'this device key was revoked; make a new key to pair again');
  const code = consumePairingCode(deps.store, req.pairingCode, deps.now());
  if (!code) throw unauthorized('pairing code is wrong, already used or expired');
  if (existing) return { deviceId };
  deps.store.insertDevice({ id: deviceId, name: req.deviceName, kind: 'client', role: roleForPairing(deps.store, code.role), publicKey: req.publicKey });
  return { deviceId };
}
