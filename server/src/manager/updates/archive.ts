/**
 * The backup file (`.acbk`): a plain header (ids, the wrapped per-backup
 * key, the IV — nothing secret), then the gzip of the snapshot encrypted
 * with AES-256-GCM under a fresh per-backup key (the header is the
 * additional data, so it cannot be swapped), then the tag. Inside, an
 * integrity manifest (every file's path, size and SHA-256) before the files;
 * `openArchive` checks the tag and every hash, so one flipped byte anywhere
 * is refused.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { AppError } from '@autoclaw/shared';
import { unwrapDataKey, wrapDataKey } from '../keys';

const MAGIC = Buffer.from('ACBK1\n', 'latin1');
const TAG_BYTES = 16;

export interface ArchiveFile {
  /** Relative, with '/' (e.g. `gateway.db`, `workspace/notes.md`). */
  path: string;
  data: Buffer;
}

export interface ArchiveHeader {
  v: 1;
  id: string;
  instanceId: string;
  createdAt: number;
  /** The per-backup key, wrapped by the instance's envelope (data) key. */
  wrappedKey: string;
  iv: string;
}

interface ManifestEntry {
  path: string;
  size: number;
  sha256: string;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const corrupt = (why: string) => new AppError('BAD_REQUEST', `the backup failed its integrity check (${why}); it is not restored`);

export function packArchive(files: ArchiveFile[], meta: Omit<ArchiveHeader, 'v' | 'wrappedKey' | 'iv'>, envelopeKey: Buffer): Buffer {
  const manifest: ManifestEntry[] = files.map((f) => ({ path: f.path, size: f.data.length, sha256: sha256(f.data) }));
  const manifestBytes = Buffer.from(JSON.stringify({ files: manifest }), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(manifestBytes.length);
  const plain = gzipSync(Buffer.concat([len, manifestBytes, ...files.map((f) => f.data)]), { level: 1 });
  const key = randomBytes(32);
  const iv = randomBytes(12);
  try {
    const header: ArchiveHeader = { v: 1, ...meta, wrappedKey: wrapDataKey(envelopeKey, key, `backup:${meta.id}`), iv: iv.toString('base64url') };
    const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
    const hlen = Buffer.alloc(4);
    hlen.writeUInt32BE(headerBytes.length);
    const aad = Buffer.concat([MAGIC, hlen, headerBytes]);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(aad);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([aad, body, cipher.getAuthTag()]);
  } finally {
    key.fill(0);
  }
}

/** The plain header (no key needed), or BAD_REQUEST when it is not a backup. */
export function readHeader(file: Buffer): { header: ArchiveHeader; aad: Buffer } {
  if (file.length < MAGIC.length + 4 + TAG_BYTES || !file.subarray(0, MAGIC.length).equals(MAGIC)) throw corrupt('not an AutoClaw backup');
  const hlen = file.readUInt32BE(MAGIC.length);
  const end = MAGIC.length + 4 + hlen;
  if (hlen > 64 * 1024 || end + TAG_BYTES > file.length) throw corrupt('bad header');
  let header: ArchiveHeader;
  try {
    header = JSON.parse(file.subarray(MAGIC.length + 4, end).toString('utf8')) as ArchiveHeader;
  } catch {
    throw corrupt('bad header');
  }
  if (header.v !== 1 || typeof header.wrappedKey !== 'string' || typeof header.iv !== 'string') throw corrupt('bad header');
  return { header, aad: file.subarray(0, end) };
}

/** Decrypts and checks every hash; BAD_REQUEST on any mismatch. */
export function openArchive(file: Buffer, envelopeKey: Buffer, expect: { id: string; instanceId: string }): { header: ArchiveHeader; files: ArchiveFile[] } {
  const { header, aad } = readHeader(file);
  if (header.id !== expect.id || header.instanceId !== expect.instanceId) throw corrupt('it belongs to another backup');
  let key: Buffer;
  try {
    key = unwrapDataKey(envelopeKey, header.wrappedKey, `backup:${header.id}`);
  } catch {
    throw corrupt('its key does not open with this instance\'s key');
  }
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(header.iv, 'base64url'));
    decipher.setAAD(aad);
    decipher.setAuthTag(file.subarray(file.length - TAG_BYTES));
    plain = gunzipSync(Buffer.concat([decipher.update(file.subarray(aad.length, file.length - TAG_BYTES)), decipher.final()]));
  } catch {
    throw corrupt('authentication failed');
  } finally {
    key.fill(0);
  }
  const mlen = plain.readUInt32BE(0);
  const { files: manifest } = JSON.parse(plain.subarray(4, 4 + mlen).toString('utf8')) as { files: ManifestEntry[] };
  const files: ArchiveFile[] = [];
  let at = 4 + mlen;
  for (const entry of manifest) {
    const data = plain.subarray(at, at + entry.size);
    at += entry.size;
    if (data.length !== entry.size || sha256(data) !== entry.sha256) throw corrupt(`${entry.path} does not match its hash`);
    if (entry.path.startsWith('/') || entry.path.split('/').includes('..')) throw corrupt(`${entry.path} is not a relative path`);
    files.push({ path: entry.path, data: Buffer.from(data) });
  }
  if (at !== plain.length) throw corrupt('trailing data');
  return { header, files };
}
