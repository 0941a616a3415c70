import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '@autoclaw/shared';
import { createLogger } from './gateway-parts';
import type { SecretKeychain } from './keychain';
import {
  KEYCHAIN_SERVICE,
  loadManagerKeys,
  loadMasterKey,
  loadOrCreateSigningKey,
  managerPublicKey,
  readManagerPublicKey,
  unwrapDataKey,
  verifyManagerSignature,
  wrapDataKey,
} from './keys';
import { managerKeyPath, masterKeyPath } from './paths';

/** An OS keychain double: the interface the manager takes, kept in memory. */
function memoryKeychain(): SecretKeychain & { entries: Map<string, string> } {
  const entries = new Map<string, string>();
  return {
    name: 'test keychain',
    entries,
    get: (service, account) => entries.get(`${service}/${account}`) ?? null,
    set: (service, account, secret) => void entries.set(`${service}/${account}`, secret),
  };
}

function brokenKeychain(): SecretKeychain {
  return {
    name: 'broken keychain',
    get: () => {
      throw new Error('Platform failure: no session bus');
    },
    set: () => {
      throw new Error('Platform failure: no session bus');
    },
  };
}

function capture() {
  const lines: Array<{ level: string; msg: string }> = [];
  return { lines, logger: createLogger({ write: (l) => void lines.push(JSON.parse(l) as { level: string; msg: string }) }) };
}

describe('manager keys', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('makes the Ed25519 signing key once, 0600, and signs verifiably', () => {
    const key = loadOrCreateSigningKey(dir);
    expect(statSync(managerKeyPath(dir)).mode & 0o777).toBe(0o600);
    const again = loadOrCreateSigningKey(dir);
    expect(managerPublicKey(again)).toBe(managerPublicKey(key));
    expect(readManagerPublicKey(dir)).toBe(managerPublicKey(key));
    const { logger } = capture();
    const keys = loadManagerKeys({ dataDir: dir, store: 'file', keychain: null, logger });
    const sig = keys.sign('hello');
    expect(verifyManagerSignature(keys.publicKey, 'hello', sig)).toBe(true);
    expect(verifyManagerSignature(keys.publicKey, 'hello!', sig)).toBe(false);
    expect(verifyManagerSignature('not-a-key', 'hello', sig)).toBe(false);
  });

  it('uses the signing key every replica is given (AUTOCLAW_MANAGER_SIGNING_KEY), writing no key file', () => {
    const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const other = mkdtempSync(join(tmpdir(), 'autoclaw-keys-replica-'));
    try {
      const { logger } = capture();
      const a = loadManagerKeys({ dataDir: dir, store: 'file', keychain: null, logger, signingKeyPem: pem });
      const b = loadManagerKeys({ dataDir: other, store: 'file', keychain: null, logger, signingKeyPem: pem });
      expect(b.publicKey).toBe(a.publicKey);
      expect(verifyManagerSignature(a.publicKey, 'ticket', b.sign('ticket'))).toBe(true);
      expect(existsSync(managerKeyPath(dir))).toBe(false);
      expect(() => loadManagerKeys({ dataDir: other, store: 'file', keychain: null, logger, signingKeyPem: 'garbage' })).toThrow(/AUTOCLAW_MANAGER_SIGNING_KEY/);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('refuses a damaged signing key file', () => {
    writeFileSync(managerKeyPath(dir), 'garbage', { mode: 0o600 });
    expect(() => loadOrCreateSigningKey(dir)).toThrow(/not an Ed25519 private key/);
  });

  it('without a keychain keeps the master key in a 0600 file and warns once', () => {
    const { lines, logger } = capture();
    const first = loadMasterKey({ dataDir: dir, store: 'auto', keychain: null, logger });
    expect(first.source).toBe('file');
    expect(first.key).toHaveLength(32);
    expect(statSync(masterKeyPath(dir)).mode & 0o777).toBe(0o600);
    expect(lines.filter((l) => l.level === 'warn' && l.msg.startsWith('WARNING: the master key is kept in a file'))).toHaveLength(1);
    expect(JSON.stringify(lines)).not.toContain(first.key.toString('base64url'));
    expect(loadMasterKey({ dataDir: dir, store: 'auto', keychain: null, logger }).key.equals(first.key)).toBe(true);
  });

  it('uses the OS keychain when it works, and nothing lands in the data directory', () => {
    const keychain = memoryKeychain();
    const { lines, logger } = capture();
    const first = loadMasterKey({ dataDir: dir, store: 'auto', keychain, logger });
    expect(first.source).toBe('keychain');
    expect([...keychain.entries.keys()]).toEqual([`${KEYCHAIN_SERVICE}/master-key:${dir}`]);
    expect(() => statSync(masterKeyPath(dir))).toThrow();
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(0);
    expect(loadMasterKey({ dataDir: dir, store: 'auto', keychain, logger }).key.equals(first.key)).toBe(true);
    // The data directory remembers the keychain: losing it is an error, never a silent new key.
    expect(() => loadMasterKey({ dataDir: dir, store: 'auto', keychain: null, logger })).toThrow(AppError);
    expect(() => loadMasterKey({ dataDir: dir, store: 'auto', keychain: memoryKeychain(), logger })).toThrow(/missing from the test keychain/);
    keychain.entries.set(`${KEYCHAIN_SERVICE}/master-key:${dir}`, randomBytes(32).toString('base64url'));
    expect(() => loadMasterKey({ dataDir: dir, store: 'auto', keychain, logger })).toThrow(/not the one this data directory was made with/);
  });

  it('falls back to the file (with the reason) when the keychain fails; "keychain" insists', () => {
    const { lines, logger } = capture();
    expect(() => loadMasterKey({ dataDir: dir, store: 'keychain', keychain: brokenKeychain(), logger })).toThrow(/no session bus/);
    const got = loadMasterKey({ dataDir: dir, store: 'auto', keychain: brokenKeychain(), logger });
    expect(got.source).toBe('file');
    expect(lines.some((l) => l.msg.includes('the OS keychain cannot be used: Platform failure'))).toBe(true);
    // Once in a file, the file it stays (no surprise move to a keychain that appears later).
    expect(loadMasterKey({ dataDir: dir, store: 'auto', keychain: memoryKeychain(), logger }).source).toBe('file');
    expect(() => loadMasterKey({ dataDir: dir, store: 'keychain', keychain: memoryKeychain(), logger })).toThrow(/kept in a file/);
  });

  it('detects a master key file swapped for another', () => {
    const { logger } = capture();
    loadMasterKey({ dataDir: dir, store: 'file', keychain: null, logger });
    writeFileSync(masterKeyPath(dir), randomBytes(32), { mode: 0o600 });
    expect(() => loadMasterKey({ dataDir: dir, store: 'file', keychain: null, logger })).toThrow(/not the one this data directory was made with/);
  });

  it('takes the master key from a Kubernetes Secret when given, and remembers where it lives', () => {
    const { lines, logger } = capture();
    const key = randomBytes(32);
    const external = { key, source: 'kubernetes' as const, where: 'the Kubernetes Secret ns/autoclaw-manager-master-key' };
    const got = loadMasterKey({ dataDir: dir, store: 'auto', keychain: memoryKeychain(), logger, external });
    expect(got).toEqual({ key, source: 'kubernetes' });
    expect(() => statSync(masterKeyPath(dir))).toThrow();
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(0);
    expect(loadManagerKeys({ dataDir: dir, store: 'auto', keychain: null, logger, external }).masterKeySource).toBe('kubernetes');
    // Another Secret's key, the keychain or a file instead: errors, never a silent new key.
    expect(() => loadMasterKey({ dataDir: dir, store: 'auto', keychain: null, logger, external: { ...external, key: randomBytes(32) } })).toThrow(
      /not the one this data directory was made with/,
    );
    expect(() => loadMasterKey({ dataDir: dir, store: 'auto', keychain: memoryKeychain(), logger })).toThrow(/kept in a Kubernetes Secret/);
    const fileDir = mkdtempSync(join(tmpdir(), 'autoclaw-keys-file-'));
    try {
      loadMasterKey({ dataDir: fileDir, store: 'file', keychain: null, logger });
      expect(() => loadMasterKey({ dataDir: fileDir, store: 'auto', keychain: null, logger, external })).toThrow(/kept in a file, not the Kubernetes Secret/);
    } finally {
      rmSync(fileDir, { recursive: true, force: true });
    }
  });

  it('wraps data keys with AES-256-GCM bound to their context', () => {
    const master = randomBytes(32);
    const dataKey = randomBytes(32);
    const wrapped = wrapDataKey(master, dataKey, 'instance-1');
    expect(wrapped).not.toContain(dataKey.toString('base64url'));
    expect(wrapDataKey(master, dataKey, 'instance-1')).not.toBe(wrapped); // fresh IV each time
    expect(unwrapDataKey(master, wrapped, 'instance-1').equals(dataKey)).toBe(true);
    expect(() => unwrapDataKey(master, wrapped, 'instance-2')).toThrow(AppError);
    expect(() => unwrapDataKey(randomBytes(32), wrapped, 'instance-1')).toThrow(AppError);
    const parts = wrapped.split('.');
    parts[3] = Buffer.from('tampered!').toString('base64url');
    expect(() => unwrapDataKey(master, parts.join('.'), 'instance-1')).toThrow(AppError);
    expect(() => wrapDataKey(master, Buffer.alloc(0))).toThrow(AppError);
  });
});
