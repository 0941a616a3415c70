import { describe, expect, it } from 'vitest';
import { authPayload, SIGNIN_PROOF_NONCE } from '@autoclaw/shared';
import { fromBase64Url } from './base64url';
import { loadOrCreateIdentity } from './device-identity';
import type { DeviceKeys } from './device-keys';
import type { KeyStore } from './key-store';
import { signInProof } from './signin-proof';

const subtle = globalThis.crypto.subtle;

function keysWith(pair: CryptoKeyPair | null): DeviceKeys {
  const store: KeyStore = { load: async () => pair, save: async () => {}, clear: async () => {} };
  return {
    storage: 'browser',
    load: async () => (pair ? loadOrCreateIdentity(subtle, store) : null),
    loadOrCreate: () => loadOrCreateIdentity(subtle, store),
    reset: null,
    deviceName: 'test',
  };
}

describe('the sign-in proof of a paired device', () => {
  it("signs the manager's sign-in nonce with the stored key and the time", async () => {
    const pair = (await subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair;
    const keys = keysWith(pair);
    const identity = (await keys.load())!;
    const proof = await signInProof(async () => keys, () => 1_700_000_000_000);
    expect(proof).toMatchObject({ publicKey: identity.publicKey, timestamp: 1_700_000_000_000 });
    const key = await subtle.importKey('raw', fromBase64Url(identity.publicKey), { name: 'Ed25519' }, false, ['verify']);
    const payload = new TextEncoder().encode(authPayload(SIGNIN_PROOF_NONCE, identity.deviceId, 1_700_000_000_000));
    expect(await subtle.verify({ name: 'Ed25519' }, key, fromBase64Url(proof!.signature), payload)).toBe(true);
  });

  it('is left out when this device never made a key, or its keys cannot be read', async () => {
    expect(await signInProof(async () => keysWith(null), Date.now)).toBeUndefined();
    expect(await signInProof(() => Promise.reject(new Error('no keychain')), Date.now)).toBeUndefined();
  });
});
