import { describe, expect, it } from 'vitest';
import { authPayload } from '@autoclaw/shared';
import { fromBase64Url, toBase64Url } from './base64url';
import { loadOrCreateIdentity } from './device-identity';
import type { KeyStore } from './key-store';

const subtle = globalThis.crypto.subtle;

function memoryKeyStore(): KeyStore & { saved: CryptoKeyPair | null } {
  const store = {
    saved: null as CryptoKeyPair | null,
    load: async () => store.saved,
    save: async (pair: CryptoKeyPair) => {
      store.saved = pair;
    },
    clear: async () => {
      store.saved = null;
    },
  };
  return store;
}

async function verifies(publicKey: string, payload: string, signature: string): Promise<boolean> {
  const key = await subtle.importKey('raw', fromBase64Url(publicKey), { name: 'Ed25519' }, false, ['verify']);
  return subtle.verify({ name: 'Ed25519' }, key, fromBase64Url(signature), new TextEncoder().encode(payload));
}

describe('device identity', () => {
  it('derives the id from the raw public key and signs the shared auth payload', async () => {
    const identity = await loadOrCreateIdentity(subtle, memoryKeyStore());
    const raw = fromBase64Url(identity.publicKey);
    expect(raw.length).toBe(32);
    const digest = new Uint8Array(await subtle.digest('SHA-256', raw));
    expect(identity.deviceId).toBe(toBase64Url(digest).slice(0, 22));

    const signature = await identity.signChallenge('nonce-1', 1_700_000_000_000);
    expect(await verifies(identity.publicKey, authPayload('nonce-1', identity.deviceId, 1_700_000_000_000), signature)).toBe(true);
    expect(await verifies(identity.publicKey, authPayload('nonce-2', identity.deviceId, 1_700_000_000_000), signature)).toBe(false);
  });

  it('keeps one key pair per browser with a non-extractable private key', async () => {
    const store = memoryKeyStore();
    const first = await loadOrCreateIdentity(subtle, store);
    const second = await loadOrCreateIdentity(subtle, store);
    expect(second.deviceId).toBe(first.deviceId);
    const privateKey = store.saved?.privateKey;
    expect(privateKey?.extractable).toBe(false);
    if (privateKey) await expect(subtle.exportKey('pkcs8', privateKey)).rejects.toThrow();
  });
});
