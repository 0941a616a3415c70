import { createHash, createPublicKey, createPrivateKey, randomBytes, verify } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SafeStorage } from 'electron';
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { AppError, authPayload } from '@autoclaw/shared';
import { DEVICE_KEY_FILE, createDeviceKeyStore, type SafeStoragePort } from './device-key-store';
import { FakeSafeStorage } from './testing/fake-safe-storage';

const NOW = 1_750_000_000_000;
const NONCE = randomBytes(32).toString('base64url');
let dir: string;
let logs: string[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'autoclaw-device-key-'));
  logs = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function makeStore(safeStorage: SafeStoragePort, opts: { platform?: NodeJS.Platform; answer?: boolean } = {}) {
  const asked = { count: 0 };
  const store = createDeviceKeyStore({
    dir,
    safeStorage,
    platform: opts.platform ?? 'linux',
    confirmPlaintextStorage: async () => {
      asked.count += 1;
      return opts.answer ?? false;
    },
    now: () => NOW,
    log: (level, message) => logs.push(`${level} ${message}`),
  });
  return { store, asked };
}

function verifies(publicKey: string, deviceId: string, signature: string): boolean {
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
  return verify(null, Buffer.from(authPayload(NONCE, deviceId, NOW)), key, Buffer.from(signature, 'base64url'));
}

describe('device key store', () => {
  it('takes the real Electron safeStorage', () => {
    expectTypeOf<SafeStorage>().toExtend<SafeStoragePort>();
  });

  it('stores the private key only encrypted, and signs verifiable challenges', async () => {
    const safeStorage = new FakeSafeStorage('gnome_libsecret');
    const { store, asked } = makeStore(safeStorage);
    const identity = await store.identity();
    expect(identity.storage).toBe('keychain');
    expect(asked.count).toBe(0);
    const raw = Buffer.from(identity.publicKey, 'base64url');
    expect(raw).toHaveLength(32);
    expect(identity.deviceId).toBe(createHash('sha256').update(raw).digest('base64url').slice(0, 22));

    const path = join(dir, DEVICE_KEY_FILE);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const text = readFileSync(path, 'utf8');
    // Recover the private key through the "keychain" and make sure no encoding of it is in the file.
    const file = JSON.parse(text) as { encryptedPrivateKey: string };
    const der = Buffer.from(safeStorage.decryptString(Buffer.from(file.encryptedPrivateKey, 'base64')), 'base64');
    const jwk = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
    const d = Buffer.from(jwk.d ?? '', 'base64url');
    expect(d).toHaveLength(32);
    for (const encoded of [der.toString('base64'), der.toString('hex'), d.toString('base64url'), d.toString('base64'), d.toString('hex')]) {
      expect(text).not.toContain(encoded);
    }

    const signed = await store.signChallenge({ nonce: NONCE, timestamp: NOW });
    expect(signed.deviceId).toBe(identity.deviceId);
    expect(verifies(identity.publicKey, identity.deviceId, signed.signature)).toBe(true);
    // A signature over another nonce does not verify: main signs exactly the auth payload.
    const other = await store.signChallenge({ nonce: 'another-nonce-value', timestamp: NOW });
    expect(verifies(identity.publicKey, identity.deviceId, other.signature)).toBe(false);
  });

  it('loads the same key on the next run', async () => {
    const safeStorage = new FakeSafeStorage('kwallet5');
    const first = await makeStore(safeStorage).store.identity();
    const { store, asked } = makeStore(safeStorage);
    const second = await store.identity();
    expect(second).toEqual(first);
    expect(asked.count).toBe(0);
    const signed = await store.signChallenge({ nonce: NONCE, timestamp: NOW });
    expect(verifies(first.publicKey, first.deviceId, signed.signature)).toBe(true);
  });

  it('asks once before storing with basic_text, and stores when the user agrees', async () => {
    const { store, asked } = makeStore(new FakeSafeStorage('basic_text'), { answer: true });
    const [a, b] = await Promise.all([store.identity(), store.identity()]);
    expect(a).toEqual(b);
    expect(asked.count).toBe(1);
    expect(a.storage).toBe('plaintext');
    expect(existsSync(join(dir, DEVICE_KEY_FILE))).toBe(true);
    expect(logs.some((line) => line.startsWith('warn') && line.includes('basic_text'))).toBe(true);
  });

  it('does not store the key when the user refuses plaintext storage', async () => {
    const { store, asked } = makeStore(new FakeSafeStorage('basic_text'), { answer: false });
    const identity = await store.identity();
    expect(asked.count).toBe(1);
    expect(identity.storage).toBe('memory');
    expect(existsSync(join(dir, DEVICE_KEY_FILE))).toBe(false);
    const signed = await store.signChallenge({ nonce: NONCE, timestamp: NOW });
    expect(verifies(identity.publicKey, identity.deviceId, signed.signature)).toBe(true);
  });

  it('keeps the key in memory, without asking, when encryption is unavailable', async () => {
    const { store, asked } = makeStore(new FakeSafeStorage('not-linux', false), { platform: 'darwin' });
    expect((await store.identity()).storage).toBe('memory');
    expect(asked.count).toBe(0);
    expect(existsSync(join(dir, DEVICE_KEY_FILE))).toBe(false);
  });

  it('does not ask for the Linux backend on macOS and Windows', async () => {
    const safeStorage = new FakeSafeStorage('not-linux');
    for (const platform of ['darwin', 'win32'] as const) {
      rmSync(join(dir, DEVICE_KEY_FILE), { force: true });
      expect((await makeStore(safeStorage, { platform }).store.identity()).storage).toBe('keychain');
    }
    expect(safeStorage.backendCalls).toBe(0);
  });

  it('refuses to run before the app is ready (backend unknown)', async () => {
    const { store } = makeStore(new FakeSafeStorage('unknown'));
    await expect(store.identity()).rejects.toSatisfy((error: unknown) => AppError.is(error, 'INTERNAL'));
  });

  it('never overwrites a stored key it cannot decrypt', async () => {
    await makeStore(new FakeSafeStorage('gnome_libsecret')).store.identity();
    const before = readFileSync(join(dir, DEVICE_KEY_FILE), 'utf8');
    const { store } = makeStore(new FakeSafeStorage('gnome_libsecret'));
    expect((await store.identity()).storage).toBe('memory');
    expect(readFileSync(join(dir, DEVICE_KEY_FILE), 'utf8')).toBe(before);
    writeFileSync(join(dir, DEVICE_KEY_FILE), '{"v":1,');
    expect((await makeStore(new FakeSafeStorage('gnome_libsecret')).store.identity()).storage).toBe('memory');
    expect(logs.filter((line) => line.includes('cannot be used'))).toHaveLength(2);
  });

  it('refuses to sign a timestamp far from its clock', async () => {
    const { store } = makeStore(new FakeSafeStorage('gnome_libsecret'));
    for (const timestamp of [NOW - 120_000, NOW + 120_000]) {
      await expect(store.signChallenge({ nonce: NONCE, timestamp })).rejects.toSatisfy((error: unknown) =>
        AppError.is(error, 'BAD_REQUEST'),
      );
    }
  });
});
