import { describe, expect, it } from 'vitest';
import { authPayload } from '@autoclaw/shared';
import type { AutoClawDesktopApi, DeviceIdentityInfo, SignChallengeRequest } from '../../preload/api';
import { fromBase64Url, toBase64Url } from './base64url';
import { deriveDeviceId } from './device-identity';
import { bridgeIdentity, browserDeviceKeys, desktopDeviceKeys } from './device-keys';
import type { KeyStore } from './key-store';

const subtle = globalThis.crypto.subtle;

/** A test double of the preload bridge that signs like main does (Ed25519 over authPayload), keeping its key to itself. */
async function bridgeDouble(storage: DeviceIdentityInfo['storage']): Promise<AutoClawDesktopApi & { signed: SignChallengeRequest[] }> {
  const pair = (await subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair;
  const raw = new Uint8Array(await subtle.exportKey('raw', pair.publicKey));
  const info: DeviceIdentityInfo = { deviceId: await deriveDeviceId(subtle, raw), publicKey: toBase64Url(raw), storage };
  const signed: SignChallengeRequest[] = [];
  const unused = () => {
    throw new Error('not used');
  };
  return {
    signed,
    getAppInfo: unused,
    getDeviceIdentity: async () => info,
    signChallenge: async (request) => {
      signed.push(request);
      const payload = new TextEncoder().encode(authPayload(request.nonce, info.deviceId, request.timestamp));
      const signature = new Uint8Array(await subtle.sign({ name: 'Ed25519' }, pair.privateKey, payload));
      return { deviceId: info.deviceId, signature: toBase64Url(signature) };
    },
    notifyAnswer: unused,
    notifyNotice: unused,
    setUnreadCount: unused,
    onDeepLink: unused,
    onSignOutRequest: unused,
    getTailscaleStatus: unused,
    openCheckout: unused,
    getUpdateState: unused,
    checkForUpdates: unused,
    downloadUpdate: unused,
    restartToUpdate: unused,
    onUpdateState: unused,
    platform: 'darwin',
  };
}

describe('desktop device keys', () => {
  it('signs through the bridge and never holds the private key', async () => {
    const bridge = await bridgeDouble('keychain');
    const keys = await desktopDeviceKeys(bridge);
    expect(keys.storage).toBe('keychain');
    expect(keys.reset).toBeNull();
    expect(keys.deviceName).toBe('AutoClaw app (macOS)');
    const identity = await keys.loadOrCreate();
    const { publicKey } = await bridge.getDeviceIdentity();
    expect(identity.publicKey).toBe(publicKey);
    const signature = await identity.signChallenge('nonce-1', 1_700_000_000_000);
    expect(bridge.signed).toEqual([{ nonce: 'nonce-1', timestamp: 1_700_000_000_000 }]);
    const key = await subtle.importKey('raw', fromBase64Url(publicKey), { name: 'Ed25519' }, false, ['verify']);
    const payload = new TextEncoder().encode(authPayload('nonce-1', identity.deviceId, 1_700_000_000_000));
    expect(await subtle.verify({ name: 'Ed25519' }, key, fromBase64Url(signature), payload)).toBe(true);
    expect(Object.keys(identity)).not.toContain('privateKey');
  });

  it('refuses a signature made for another device id', async () => {
    const bridge = await bridgeDouble('memory');
    const info = { ...(await bridge.getDeviceIdentity()), deviceId: 'someone-else-000000000' };
    await expect(bridgeIdentity(bridge, info).signChallenge('n', 1)).rejects.toThrow(/another device/);
  });
});

describe('browser device keys', () => {
  it('makes a key on demand and forgets it on reset', async () => {
    let saved: CryptoKeyPair | null = null;
    const store: KeyStore = {
      load: async () => saved,
      save: async (pair) => {
        saved = pair;
      },
      clear: async () => {
        saved = null;
      },
    };
    const keys = browserDeviceKeys(globalThis.crypto.subtle, store, 'WebChat (Chromium on Linux)');
    expect(await keys.load()).toBeNull();
    const first = await keys.loadOrCreate();
    expect((await keys.load())?.deviceId).toBe(first.deviceId);
    await keys.reset?.();
    expect(await keys.load()).toBeNull();
    expect((await keys.loadOrCreate()).deviceId).not.toBe(first.deviceId);
  });
});
