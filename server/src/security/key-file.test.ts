import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '@autoclaw/shared';
import { DATA_KEY_BYTES, loadOrCreateKeyFile, readSecretFile, writeSecretFile } from './key-file';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'autoclaw-key-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const modeOf = (path: string) => statSync(path).mode & 0o777;

function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError');
}

describe('loadOrCreateKeyFile', () => {
  it('makes a random 32-byte key with mode 0600 and reads the same key back', () => {
    const path = join(dir, 'data', 'vault.key');
    const key = loadOrCreateKeyFile(path);
    expect(key).toHaveLength(DATA_KEY_BYTES);
    expect(modeOf(path)).toBe(0o600);
    expect(loadOrCreateKeyFile(path).equals(key)).toBe(true);
    expect(loadOrCreateKeyFile(join(dir, 'other.key')).equals(key)).toBe(false);
    // No temp file is left behind.
    expect(readdirSync(join(dir, 'data'))).toEqual(['vault.key']);
  });

  it('is 0600 even under a permissive umask', () => {
    const previous = process.umask(0o000);
    try {
      const path = join(dir, 'umask.key');
      loadOrCreateKeyFile(path);
      expect(modeOf(path)).toBe(0o600);
    } finally {
      process.umask(previous);
    }
  });

  it('refuses a key file others can read, explaining the fix', () => {
    const path = join(dir, 'vault.key');
    loadOrCreateKeyFile(path);
    chmodSync(path, 0o644);
    const error = errorOf(() => loadOrCreateKeyFile(path));
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toContain(`chmod 600 ${path}`);
    expect(error.message).toContain('0644');
    chmodSync(path, 0o620);
    expect(errorOf(() => loadOrCreateKeyFile(path)).code).toBe('FORBIDDEN');
    chmodSync(path, 0o600);
    expect(loadOrCreateKeyFile(path)).toHaveLength(DATA_KEY_BYTES);
  });

  it('refuses a key of the wrong length and never replaces it', () => {
    const path = join(dir, 'vault.key');
    writeSecretFile(path, Buffer.alloc(16, 1));
    const error = errorOf(() => loadOrCreateKeyFile(path));
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toMatch(/16 bytes, not the 32/);
    expect(readSecretFile(path)).toEqual(Buffer.alloc(16, 1));
  });

  it('refuses what is not a regular file', () => {
    const path = join(dir, 'a-directory.key');
    mkdirSync(path, { mode: 0o700 });
    expect(errorOf(() => loadOrCreateKeyFile(path)).code).toBe('FORBIDDEN');
  });
});

describe('secret files', () => {
  it('write atomically with mode 0600, replace, and read back', () => {
    const path = join(dir, 'operator.key');
    writeSecretFile(path, 'first');
    expect(modeOf(path)).toBe(0o600);
    writeSecretFile(path, Buffer.from('second'));
    expect(readSecretFile(path).toString()).toBe('second');
    expect(modeOf(path)).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['operator.key']);
  });

  it('exclusive writes never replace an existing file', () => {
    const path = join(dir, 'operator.key');
    writeSecretFile(path, 'mine', { exclusive: true });
    expect(errorOf(() => writeSecretFile(path, 'theirs', { exclusive: true })).code).toBe('CONFLICT');
    expect(readSecretFile(path).toString()).toBe('mine');
    expect(readdirSync(dir)).toEqual(['operator.key']);
  });

  it('reads refuse missing and readable-by-others files', () => {
    expect(errorOf(() => readSecretFile(join(dir, 'missing'))).code).toBe('NOT_FOUND');
    const open = join(dir, 'open.key');
    writeFileSync(open, 'x', { mode: 0o644 });
    chmodSync(open, 0o644);
    expect(errorOf(() => readSecretFile(open)).code).toBe('FORBIDDEN');
    // A link to such a file is judged by the file itself.
    const link = join(dir, 'link.key');
    symlinkSync(open, link);
    expect(errorOf(() => readSecretFile(link)).code).toBe('FORBIDDEN');
  });
});
