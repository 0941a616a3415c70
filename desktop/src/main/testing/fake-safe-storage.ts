/**
 * Test support: Electron's safeStorage with real AES-256-GCM under a key of
 * its own (the "keychain"). Two instances with different keys model a keyring
 * that changed between runs.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SafeStoragePort } from '../device-key-store';

export type Backend = ReturnType<SafeStoragePort['getSelectedStorageBackend']>;

export class FakeSafeStorage implements SafeStoragePort {
  readonly key = randomBytes(32);
  backendCalls = 0;
  constructor(
    private readonly backend: Backend | 'not-linux',
    private readonly available = true,
  ) {}
  isEncryptionAvailable(): boolean {
    return this.available;
  }
  getSelectedStorageBackend(): Backend {
    this.backendCalls += 1;
    if (this.backend === 'not-linux') throw new Error('getSelectedStorageBackend is Linux-only');
    return this.backend;
  }
  encryptString(plainText: string): Buffer {
    if (!this.available) throw new Error('Encryption is not available.');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plainText, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }
  decryptString(encrypted: Buffer): string {
    const decipher = createDecipheriv('aes-256-gcm', this.key, encrypted.subarray(0, 12));
    decipher.setAuthTag(encrypted.subarray(12, 28));
    return Buffer.concat([decipher.update(encrypted.subarray(28)), decipher.final()]).toString('utf8');
  }
}
