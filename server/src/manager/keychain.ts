/**
 * The OS keychain (macOS Keychain, Windows Credential Manager, the Secret
 * Service on Linux) through @napi-rs/keyring, behind a two-method interface
 * so the manager can run — and be tested — without one.
 */
import { createRequire } from 'node:module';
import type { Entry as KeyringEntry, EntryOptions } from '@napi-rs/keyring';

export interface SecretKeychain {
  readonly name: string;
  /** The stored secret, or null when there is none. Throws when the keychain cannot be used. */
  get(service: string, account: string): string | null;
  set(service: string, account: string, secret: string): void;
}

type EntryClass = new (service: string, account: string, options?: EntryOptions) => KeyringEntry;

/**
 * The OS keychain, or null when the native binding does not load on this
 * platform. Loaded through createRequire so the bundler leaves the native
 * addon in node_modules. On Linux only the persistent Secret Service is used:
 * the kernel keyring forgets its keys at reboot, which would lose the master key.
 */
export function openOsKeychain(): SecretKeychain | null {
  let Entry: EntryClass;
  try {
    const load = createRequire(import.meta.url);
    ({ Entry } = load('@napi-rs/keyring') as { Entry: EntryClass });
  } catch {
    return null;
  }
  const options: EntryOptions = { linux: { store: 'secret-service' } };
  return {
    name: process.platform === 'darwin' ? 'macOS Keychain' : process.platform === 'win32' ? 'Windows Credential Manager' : 'Secret Service',
    get(service, account) {
      return new Entry(service, account, options).getPassword() ?? null;
    },
    set(service, account, secret) {
      new Entry(service, account, options).setPassword(secret);
    },
  };
}
