/**
 * Where this device's Ed25519 identity comes from in the manager UI: in the
 * desktop app, from main through the preload bridge (the private key stays
 * in main, in the OS keychain); in a plain browser, the non-extractable
 * WebCrypto key kept in IndexedDB. Both give the same DeviceIdentity.
 */
import type { AutoClawDesktopApi, DeviceIdentityInfo } from '../../preload/api';
import { loadIdentity, loadOrCreateIdentity, type DeviceIdentity } from './device-identity';
import type { KeyStore } from './key-store';

export interface DeviceKeys {
  /** `browser`: IndexedDB; otherwise where the desktop app keeps the key. */
  readonly storage: 'browser' | DeviceIdentityInfo['storage'];
  /** The existing identity, or null when this device never made a key. */
  load(): Promise<DeviceIdentity | null>;
  loadOrCreate(): Promise<DeviceIdentity>;
  /** Forgets the key so the next loadOrCreate makes a new one (after a revocation); null when this device cannot. */
  readonly reset: (() => Promise<void>) | null;
  /** How the device is named in the devices list. */
  readonly deviceName: string;
}

export function browserDeviceKeys(subtle: SubtleCrypto, store: KeyStore, deviceName: string): DeviceKeys {
  return {
    storage: 'browser',
    load: () => loadIdentity(subtle, store),
    loadOrCreate: () => loadOrCreateIdentity(subtle, store),
    reset: () => store.clear(),
    deviceName,
  };
}

/** The bridge's signer as a DeviceIdentity; a signature for another device id is refused. */
export function bridgeIdentity(desktop: Pick<AutoClawDesktopApi, 'signChallenge'>, info: DeviceIdentityInfo): DeviceIdentity {
  return {
    deviceId: info.deviceId,
    publicKey: info.publicKey,
    async signChallenge(nonce, timestamp) {
      const result = await desktop.signChallenge({ nonce, timestamp });
      if (result.deviceId !== info.deviceId) throw new Error('the desktop app signed for another device key');
      return result.signature;
    },
  };
}

const PLATFORM_NAMES: Record<AutoClawDesktopApi['platform'], string> = {
  darwin: 'macOS',
  win32: 'Windows',
  linux: 'Linux',
  other: 'desktop',
};

/** The desktop app's key; its storage is known once main answered, so this is async. */
export async function desktopDeviceKeys(desktop: AutoClawDesktopApi): Promise<DeviceKeys> {
  const info = await desktop.getDeviceIdentity();
  const identity = bridgeIdentity(desktop, info);
  return {
    storage: info.storage,
    load: async () => identity,
    loadOrCreate: async () => identity,
    // The bridge has no capability to replace the key (see the report of issue 4).
    reset: null,
    deviceName: `AutoClaw app (${PLATFORM_NAMES[desktop.platform]})`,
  };
}
