import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isInside, readDataKeyFile } from './data-key-file';

const posix = process.platform !== 'win32';

describe('reading the data key from --data-key-file', () => {
  let dir: string;
  let dataDir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-keyfile-'));
    dataDir = join(dir, 'data');
    mkdirSync(dataDir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function keyFile(name: string, bytes: Buffer, mode = 0o600): string {
    const path = join(dir, name);
    writeFileSync(path, bytes, { mode });
    chmodSync(path, mode);
    return path;
  }

  it('reads exactly 32 bytes from a private file outside the data directory', () => {
    const key = Buffer.alloc(32, 9);
    expect(readDataKeyFile(keyFile('k', key), { dataDir }).equals(key)).toBe(true);
  });

  it('refuses a file inside the data directory, also through a symlink', () => {
    const inside = join(dataDir, 'data-key');
    writeFileSync(inside, Buffer.alloc(32, 1), { mode: 0o600 });
    expect(() => readDataKeyFile(inside, { dataDir })).toThrow(/inside the data directory/);
    const link = join(dir, 'link');
    symlinkSync(inside, link);
    expect(() => readDataKeyFile(link, { dataDir })).toThrow(/inside the data directory/);
  });

  it.runIf(posix)('refuses a key other users can read, or its group can write', () => {
    expect(() => readDataKeyFile(keyFile('a', Buffer.alloc(32, 1), 0o644), { dataDir })).toThrow(/mode 0644: other users/);
    expect(() => readDataKeyFile(keyFile('b', Buffer.alloc(32, 1), 0o660), { dataDir })).toThrow(/group can write/);
    expect(() => readDataKeyFile(keyFile('c', Buffer.alloc(32, 1), 0o604), { dataDir })).toThrow(/FORBIDDEN|not private/);
  });

  it.runIf(posix)('accepts read access for its own group (a Kubernetes Secret volume: root-owned, 0440 for the fsGroup)', () => {
    const key = Buffer.alloc(32, 3);
    expect(readDataKeyFile(keyFile('g', key, 0o440), { dataDir }).equals(key)).toBe(true);
  });

  it('refuses a missing file and a key of the wrong length', () => {
    expect(() => readDataKeyFile(join(dir, 'nope'), { dataDir })).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => readDataKeyFile(keyFile('short', Buffer.alloc(31, 1)), { dataDir })).toThrow(/31 bytes, not the 32/);
    expect(() => readDataKeyFile(dir, { dataDir })).toThrow(/FORBIDDEN|not a regular file|EISDIR/);
  });

  it('knows what lies inside a directory', () => {
    expect(isInside('/a/b', '/a/b')).toBe(true);
    expect(isInside('/a/b', '/a/b/c/d')).toBe(true);
    expect(isInside('/a/b', '/a/bc')).toBe(false);
    expect(isInside('/a/b', '/a')).toBe(false);
  });
});
