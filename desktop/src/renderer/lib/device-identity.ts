import { DEVICE_ID_CHARS, authPayload } from '@autoclaw/shared';
import { toBase64Url } from './base64url';
import type { KeyStore } from './key-store';

/** This browser's device: its Ed25519 key pair and the id derived from it. */
export interface DeviceIdentity {
  readonly deviceId: string;
  /** base64url raw 32-byte public key. */
  readonly publicKey: string;
  /** base64url signature of authPayload(nonce, deviceId, timestamp). */
  signChallenge(nonce: string, timestamp: number): Promise<string>;
}

/** Device id = first 22 chars of base64url(SHA-256(raw public key)). */
export async function deriveDeviceId(subtle: SubtleCrypto, rawPublicKey: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await subtle.digest('SHA-256', rawPublicKey));
  return toBase64Url(digest).slice(0, DEVICE_ID_CHARS);
}

export async function identityFromKeyPair(subtle: SubtleCrypto, pair: CryptoKeyPair): Promise<DeviceIdentity> {
  const raw = new Uint8Array(await subtle.exportKey('raw', pair.publicKey));
  const deviceId = await deriveDeviceId(subtle, raw);
  return {
    deviceId,
    publicKey: toBase64Url(raw),
    async signChallenge(nonce, timestamp) {
      const payload = new TextEncoder().encode(authPayload(nonce, deviceId, timestamp));
      const signature = await subtle.sign({ name: 'Ed25519' }, pair.privateKey, payload);
      return toBase64Url(new Uint8Array(signature));
    },
  };
}

/** Loads the stored key pair or makes (and stores) a new non-extractable one. */
export async function loadOrCreateIdentity(subtle: SubtleCrypto, store: KeyStore): Promise<DeviceIdentity> {
  const stored = await store.load();
  if (stored) return identityFromKeyPair(subtle, stored);
  const made = await subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
  if (!('privateKey' in made)) throw new Error('Ed25519 key generation returned a single key');
  await store.save(made);
  return identityFromKeyPair(subtle, made);
}

/** Returns the stored identity, or null when this browser never made a key. */
export async function loadIdentity(subtle: SubtleCrypto, store: KeyStore): Promise<DeviceIdentity | null> {
  const stored = await store.load();
  return stored ? identityFromKeyPair(subtle, stored) : null;
}
