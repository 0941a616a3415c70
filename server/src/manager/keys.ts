/**
 * The manager's two keys.
 *
 * * Its Ed25519 signing key (`DIR/manager.key`, PEM, 0600): signs pairing
 *   tickets and the audit log's head; its public key (base64url raw) is
 *   what gateways and auditors hold.
 * * Its 32-byte master key: wraps each instance's data key (AES-256-GCM).
 *   Kept in the OS keychain where there is one, else in `DIR/master.key`
 *   (0600) with a warning; with the Kubernetes driver, in a Kubernetes Secret
 *   (read by the caller and passed in). `DIR/master-key.json` records where it lives and
 *   its fingerprint, so a keychain that becomes unreachable is an error, not
 *   a silent new key that cannot unwrap anything stored.
 */
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '@autoclaw/shared';
import { createVault, keyPairOf, loadOrCreateKeyFile, parsePublicKey, readSecretFile, signPayload, verifyPayload, writeSecretFile } from '../security';
import type { MasterKeyStore } from './config';
import type { Logger } from './gateway-parts';
import type { SecretKeychain } from './keychain';
import { managerKeyPath, masterKeyPath } from './paths';

export const MASTER_KEY_BYTES = 32;
export const KEYCHAIN_SERVICE = 'autoclaw-manager';
const MASTER_REF_FILE = 'master-key.json';

export interface ManagerKeys {
  /** base64url raw Ed25519 public key. */
  publicKey: string;
  /** base64url Ed25519 signature of `payload` (UTF-8). */
  sign(payload: string): string;
  masterKey: Buffer;
  masterKeySource: MasterKeySource;
}

export type MasterKeySource = 'keychain' | 'file' | 'kubernetes';

/* ---------- signing key ---------- */

function privateKeyToPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

function privateKeyFromPem(pem: Buffer): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 private key');
  return key;
}

function givenSigningKey(pem: string): KeyObject {
  try {
    return privateKeyFromPem(Buffer.from(pem, 'utf8'));
  } catch (err) {
    throw new AppError('BAD_REQUEST', 'AUTOCLAW_MANAGER_SIGNING_KEY is not an Ed25519 private key in PEM (make one with `openssl genpkey -algorithm ed25519`)', { cause: err });
  }
}

/** The manager's Ed25519 private key, made on first use. */
export function loadOrCreateSigningKey(dataDir: string): KeyObject {
  const path = managerKeyPath(dataDir);
  if (!existsSync(path)) {
    try {
      writeSecretFile(path, privateKeyToPem(generateKeyPairSync('ed25519').privateKey), { exclusive: true });
    } catch (err) {
      // Another process made it first: use theirs.
      if (!AppError.is(err, 'CONFLICT')) throw err;
    }
  }
  return readSigningKey(path);
}

function readSigningKey(path: string): KeyObject {
  const pem = readSecretFile(path);
  try {
    return privateKeyFromPem(pem);
  } catch (err) {
    throw new AppError('FORBIDDEN', `${path} is not an Ed25519 private key (damaged?); restore it from a backup`, { cause: err });
  }
}

export function managerPublicKey(privateKey: KeyObject): string {
  return keyPairOf(privateKey).publicKey;
}

export function signWithManagerKey(privateKey: KeyObject, payload: string): string {
  return signPayload(privateKey, payload);
}

/** Verifies a manager signature against a base64url raw public key. */
export function verifyManagerSignature(publicKey: string, payload: string, signature: string): boolean {
  const key = parsePublicKey(publicKey);
  return key !== null && verifyPayload(key, payload, signature);
}

/** The public key of the manager on `dataDir` (reads its private key file). */
export function readManagerPublicKey(dataDir: string): string {
  return managerPublicKey(readSigningKey(managerKeyPath(dataDir)));
}

/* ---------- master key ---------- */

interface MasterRef {
  v: 1;
  store: MasterKeySource;
  account?: string;
  /** First 16 hex digits of SHA-256 of the key: detects a wrong key, reveals nothing. */
  fingerprint: string;
}

function fingerprint(key: Buffer): string {
  return createHash('sha256').update('autoclaw-master-key/v1').update(key).digest('hex').slice(0, 16);
}

function readRef(dataDir: string): MasterRef | null {
  try {
    const ref = JSON.parse(readFileSync(join(dataDir, MASTER_REF_FILE), 'utf8')) as Partial<MasterRef>;
    if ((ref.store === 'keychain' || ref.store === 'file' || ref.store === 'kubernetes') && typeof ref.fingerprint === 'string') {
      return { v: 1, store: ref.store, fingerprint: ref.fingerprint, ...(typeof ref.account === 'string' ? { account: ref.account } : {}) };
    }
  } catch {
    // missing or unreadable: decided below
  }
  return null;
}

/** Where the master key of `dataDir` is kept, as recorded when it was made (null before that). */
export function masterKeySourceOf(dataDir: string): MasterKeySource | null {
  return readRef(dataDir)?.store ?? null;
}

function writeRef(dataDir: string, ref: MasterRef): void {
  const path = join(dataDir, MASTER_REF_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(ref)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

function checkFingerprint(ref: MasterRef | null, key: Buffer, where: string): Buffer {
  if (ref && ref.fingerprint !== fingerprint(key)) {
    throw new AppError('FORBIDDEN', `the master key in ${where} is not the one this data directory was made with; restore the right key`);
  }
  return key;
}

function decodeKey(text: string, where: string): Buffer {
  const key = Buffer.from(text, 'base64url');
  if (key.length !== MASTER_KEY_BYTES || key.toString('base64url') !== text) {
    throw new AppError('FORBIDDEN', `the master key in ${where} is damaged (not ${MASTER_KEY_BYTES} bytes)`);
  }
  return key;
}

export interface MasterKeyOptions {
  dataDir: string;
  store: MasterKeyStore;
  /** The OS keychain; null when there is none. */
  keychain: SecretKeychain | null;
  logger: Logger;
  /** A master key kept outside this machine (the Kubernetes Secret), read by the caller; `where` names it in errors. */
  external?: { key: Buffer; source: 'kubernetes'; where: string };
  /** The signing key given by the platform (AUTOCLAW_MANAGER_SIGNING_KEY, PEM), shared by every replica; else DIR/manager.key. */
  signingKeyPem?: string;
}

function fromFile(opts: MasterKeyOptions, ref: MasterRef | null, reason: string): { key: Buffer; source: 'file' } {
  const path = masterKeyPath(opts.dataDir);
  const key = checkFingerprint(ref, loadOrCreateKeyFile(path), path);
  if (!ref) writeRef(opts.dataDir, { v: 1, store: 'file', fingerprint: fingerprint(key) });
  opts.logger.warn(`WARNING: the master key is kept in a file (${reason}); protect ${path} like a password and back it up`, { path });
  return { key, source: 'file' };
}

function fromKeychain(opts: MasterKeyOptions, keychain: SecretKeychain, ref: MasterRef | null): { key: Buffer; source: 'keychain' } {
  const account = ref?.account ?? `master-key:${opts.dataDir}`;
  const where = `the ${keychain.name} (${KEYCHAIN_SERVICE} / ${account})`;
  let stored = keychain.get(KEYCHAIN_SERVICE, account);
  if (stored === null) {
    if (ref) throw new AppError('NOT_FOUND', `the master key is missing from ${where}; restore it there`);
    keychain.set(KEYCHAIN_SERVICE, account, randomBytes(MASTER_KEY_BYTES).toString('base64url'));
    stored = keychain.get(KEYCHAIN_SERVICE, account);
    if (stored === null) throw new AppError('INTERNAL', `the ${keychain.name} did not keep the master key`);
  }
  const key = checkFingerprint(ref, decodeKey(stored, where), where);
  if (!ref) writeRef(opts.dataDir, { v: 1, store: 'keychain', account, fingerprint: fingerprint(key) });
  return { key, source: 'keychain' };
}

/** The master key, made on first use where `store` says (see the file comment). */
export function loadMasterKey(opts: MasterKeyOptions): { key: Buffer; source: MasterKeySource } {
  const ref = readRef(opts.dataDir);
  if (opts.external) {
    if (ref && ref.store !== opts.external.source) {
      throw new AppError('CONFLICT', `the master key of this data directory is kept in ${ref.store === 'file' ? 'a file' : `the ${ref.store}`}, not ${opts.external.where}`);
    }
    const key = checkFingerprint(ref, opts.external.key, opts.external.where);
    if (!ref) writeRef(opts.dataDir, { v: 1, store: opts.external.source, fingerprint: fingerprint(key) });
    return { key, source: opts.external.source };
  }
  if (ref?.store === 'kubernetes') {
    throw new AppError('NOT_CONFIGURED', 'the master key of this data directory is kept in a Kubernetes Secret; run this through the manager (--driver kubernetes)');
  }
  const fileExists = existsSync(masterKeyPath(opts.dataDir));
  if (ref?.store === 'file' || (ref === null && fileExists)) {
    if (opts.store === 'keychain') throw new AppError('CONFLICT', 'the master key of this data directory is kept in a file, not the keychain');
    return fromFile(opts, ref, 'this data directory keeps it there');
  }
  if (ref?.store === 'keychain' || opts.store === 'keychain') {
    if (opts.store === 'file') throw new AppError('CONFLICT', 'the master key of this data directory is kept in the OS keychain, not a file');
    if (!opts.keychain) throw new AppError('NOT_CONFIGURED', 'the master key is kept in the OS keychain, which cannot be used here');
    return fromKeychain(opts, opts.keychain, ref);
  }
  if (opts.store === 'file' || !opts.keychain) return fromFile(opts, null, opts.store === 'file' ? 'AUTOCLAW_MASTER_KEY_STORE=file' : 'no OS keychain');
  try {
    return fromKeychain(opts, opts.keychain, null);
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0]?.slice(0, 120) : 'error';
    return fromFile(opts, null, `the OS keychain cannot be used: ${why}`);
  }
}

export function loadManagerKeys(opts: MasterKeyOptions): ManagerKeys {
  const signing = opts.signingKeyPem === undefined ? loadOrCreateSigningKey(opts.dataDir) : givenSigningKey(opts.signingKeyPem);
  const master = loadMasterKey(opts);
  return {
    publicKey: managerPublicKey(signing),
    sign: (payload) => signWithManagerKey(signing, payload),
    masterKey: master.key,
    masterKeySource: master.source,
  };
}

/* ---------- data-key envelopes ---------- */

/**
 * Wraps an instance's data key under the master key (AES-256-GCM, fresh IV).
 * `context` (e.g. the instance id) is bound as associated data: a wrapped key
 * moved to another instance does not unwrap.
 */
export function wrapDataKey(master: Buffer, dataKey: Buffer, context = ''): string {
  if (!Buffer.isBuffer(dataKey) || dataKey.length === 0 || dataKey.length > 64) throw new AppError('BAD_REQUEST', 'a data key is 1–64 bytes');
  return createVault(master, 'data-key-wrap').encrypt(dataKey.toString('base64url'), context);
}

/** The data key inside `wrapped`; AppError FORBIDDEN when the master key, context or value is wrong. */
export function unwrapDataKey(master: Buffer, wrapped: string, context = ''): Buffer {
  return Buffer.from(createVault(master, 'data-key-wrap').decrypt(wrapped, context), 'base64url');
}
