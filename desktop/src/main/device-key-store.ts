/**
 * This device's Ed25519 key. It is made here, in main, with node:crypto; the
 * private key is stored only encrypted by Electron's safeStorage (the OS
 * keychain) and never leaves this module — callers get the public identity
 * and signatures of the device-auth payload, nothing that could sign anything
 * else. On Linux without a keyring safeStorage falls back to `basic_text`
 * (a fixed, public key): then we warn and ask before storing, and a refusal
 * keeps the key in memory for this run only.
 */
import { createHash, createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SafeStorage } from 'electron';
import { z } from 'zod';
import { AUTH_MAX_SKEW_MS, AppError, DEVICE_ID_CHARS, authPayload } from '@autoclaw/shared';
import type { DeviceIdentityInfo, SignChallengeRequest, SignChallengeResult } from '../preload/api';

export type SafeStoragePort = Pick<
  SafeStorage,
  'isEncryptionAvailable' | 'encryptString' | 'decryptString' | 'getSelectedStorageBackend'
>;

export type LogFn = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface DeviceKeyStoreOptions {
  /** Directory of the key file (the app's userData). */
  dir: string;
  safeStorage: SafeStoragePort;
  /** process.platform; the storage backend is only meaningful on Linux. */
  platform: NodeJS.Platform;
  /** Asked once when only plaintext storage exists; true = store anyway. */
  confirmPlaintextStorage: () => Promise<boolean>;
  now: () => number;
  log: LogFn;
}

export interface DeviceKeyStore {
  /** Loads or makes the key (may ask the user, once). */
  identity(): Promise<DeviceIdentityInfo>;
  signChallenge(request: SignChallengeRequest): Promise<SignChallengeResult>;
}

export const DEVICE_KEY_FILE = 'device-key.json';

const KeyFile = z
  .object({
    v: z.literal(1),
    publicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
    /** base64 of safeStorage.encryptString(base64 PKCS#8 DER). */
    encryptedPrivateKey: z.string().min(1).max(4096),
    storage: z.enum(['keychain', 'plaintext']),
  })
  .strict();
type KeyFile = z.infer<typeof KeyFile>;

interface LoadedKey {
  privateKey: KeyObject;
  info: DeviceIdentityInfo;
}

/** Device id = first 22 chars of base64url(SHA-256(raw public key)), like the gateway. */
export function deriveDeviceId(rawPublicKey: Buffer): string {
  return createHash('sha256').update(rawPublicKey).digest('base64url').slice(0, DEVICE_ID_CHARS);
}

function rawPublicKey(privateKey: KeyObject): Buffer {
  const jwk = privateKey.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new AppError('INTERNAL', 'Ed25519 key without a public part');
  return Buffer.from(jwk.x, 'base64url');
}

function loaded(privateKey: KeyObject, storage: DeviceIdentityInfo['storage']): LoadedKey {
  const raw = rawPublicKey(privateKey);
  return { privateKey, info: { deviceId: deriveDeviceId(raw), publicKey: raw.toString('base64url'), storage } };
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}

export function createDeviceKeyStore(options: DeviceKeyStoreOptions): DeviceKeyStore {
  const path = join(options.dir, DEVICE_KEY_FILE);
  const { safeStorage, log } = options;
  let pending: Promise<LoadedKey> | null = null;

  /** 'keychain' | 'plaintext' when safeStorage can store, null when it cannot. */
  function availableStorage(): 'keychain' | 'plaintext' | null {
    if (options.platform === 'linux') {
      const backend = safeStorage.getSelectedStorageBackend();
      if (backend === 'unknown') throw new AppError('INTERNAL', 'safeStorage was used before the app was ready');
      if (!safeStorage.isEncryptionAvailable()) return null;
      return backend === 'basic_text' ? 'plaintext' : 'keychain';
    }
    return safeStorage.isEncryptionAvailable() ? 'keychain' : null;
  }

  async function readKeyFile(): Promise<KeyFile | null> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    const parsed = KeyFile.safeParse(JSON.parse(text));
    if (!parsed.success) throw new AppError('INTERNAL', 'the stored device key file is malformed');
    return parsed.data;
  }

  function decrypt(file: KeyFile): LoadedKey {
    const der = Buffer.from(safeStorage.decryptString(Buffer.from(file.encryptedPrivateKey, 'base64')), 'base64');
    const key = loaded(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }), file.storage);
    if (key.info.publicKey !== file.publicKey) throw new AppError('INTERNAL', 'the stored device key does not match its public key');
    return key;
  }

  async function store(privateKey: KeyObject, storage: 'keychain' | 'plaintext'): Promise<void> {
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    const file: KeyFile = {
      v: 1,
      publicKey: rawPublicKey(privateKey).toString('base64url'),
      encryptedPrivateKey: safeStorage.encryptString(der.toString('base64')).toString('base64'),
      storage,
    };
    await mkdir(options.dir, { recursive: true, mode: 0o700 });
    // Write aside, then rename: a crash never leaves half a key file.
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, `${JSON.stringify(file)}\n`, { mode: 0o600 });
    await rename(temp, path);
  }

  async function create(): Promise<LoadedKey> {
    const { privateKey } = generateKeyPairSync('ed25519');
    const storage = availableStorage();
    if (storage === null) {
      log('warn', 'device key: safeStorage cannot encrypt here; the key is kept in memory for this run only');
      return loaded(privateKey, 'memory');
    }
    if (storage === 'plaintext') {
      log('warn', 'device key: no OS keychain (safeStorage backend basic_text); asking before storing it');
      if (!(await options.confirmPlaintextStorage())) {
        log('info', 'device key: the user declined plaintext storage; the key is kept in memory for this run only');
        return loaded(privateKey, 'memory');
      }
    }
    await store(privateKey, storage);
    log('info', `device key: created and stored (${storage})`);
    return loaded(privateKey, storage);
  }

  async function load(): Promise<LoadedKey> {
    let file: KeyFile | null;
    try {
      file = await readKeyFile();
      if (file !== null) return decrypt(file);
    } catch (error) {
      // Never overwrite a key we cannot read (the keyring may be back next run).
      const reason = error instanceof Error ? error.message : 'unknown error';
      log('warn', `device key: the stored key cannot be used (${reason}); using a key for this run only`);
      return loaded(generateKeyPairSync('ed25519').privateKey, 'memory');
    }
    return create();
  }

  function key(): Promise<LoadedKey> {
    pending ??= load().catch((error: unknown) => {
      pending = null;
      throw error;
    });
    return pending;
  }

  return {
    async identity() {
      return (await key()).info;
    },
    async signChallenge({ nonce, timestamp }) {
      if (Math.abs(options.now() - timestamp) > AUTH_MAX_SKEW_MS) {
        throw new AppError('BAD_REQUEST', 'timestamp is too far from this device clock');
      }
      const { privateKey, info } = await key();
      const payload = Buffer.from(authPayload(nonce, info.deviceId, timestamp), 'utf8');
      return { deviceId: info.deviceId, signature: sign(null, payload, privateKey).toString('base64url') };
    },
  };
}
