/**
 * Ed25519 device keys (node:crypto). Public keys travel as base64url of the
 * raw 32 bytes; a device id is derived from the key (see shared/auth.ts), so
 * the gateway never trusts an id that does not match its key.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { DEVICE_ID_CHARS } from '@autoclaw/shared';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export interface DeviceKeyPair {
  privateKey: KeyObject;
  /** base64url raw public key. */
  publicKey: string;
  deviceId: string;
}

export function deviceIdFromPublicKey(publicKey: string): string {
  const raw = Buffer.from(publicKey, 'base64url');
  return createHash('sha256').update(raw).digest('base64url').slice(0, DEVICE_ID_CHARS);
}

/** Parses a base64url raw Ed25519 public key; null when it is not one. */
export function parsePublicKey(publicKey: string): KeyObject | null {
  if (publicKey.length !== 43 || !BASE64URL.test(publicKey)) return null;
  const raw = Buffer.from(publicKey, 'base64url');
  if (raw.length !== 32) return null;
  try {
    return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch {
    return null;
  }
}

export function rawPublicKey(key: KeyObject): string {
  const pub = key.type === 'public' ? key : createPublicKey(key);
  const der = pub.export({ format: 'der', type: 'spki' });
  return der.subarray(ED25519_SPKI_PREFIX.length).toString('base64url');
}

export function generateDeviceKey(): DeviceKeyPair {
  const { privateKey } = generateKeyPairSync('ed25519');
  return keyPairOf(privateKey);
}

export function keyPairOf(privateKey: KeyObject): DeviceKeyPair {
  const publicKey = rawPublicKey(privateKey);
  return { privateKey, publicKey, deviceId: deviceIdFromPublicKey(publicKey) };
}

export function privateKeyToPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

export function privateKeyFromPem(pem: string | Buffer): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 private key');
  return key;
}

/** base64url signature of `payload`. */
export function signPayload(privateKey: KeyObject, payload: string): string {
  return sign(null, Buffer.from(payload, 'utf8'), privateKey).toString('base64url');
}

export function verifyPayload(publicKey: KeyObject, payload: string, signature: string): boolean {
  if (signature.length !== 86 || !BASE64URL.test(signature)) return false;
  const sig = Buffer.from(signature, 'base64url');
  if (sig.length !== 64) return false;
  try {
    return verify(null, Buffer.from(payload, 'utf8'), publicKey, sig);
  } catch {
    return false;
  }
}
