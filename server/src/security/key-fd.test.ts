import { openSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readDataKeyFromFd } from './key-fd';

// The pipe a manager hands a gateway is covered end to end by the local driver's tests.
describe('reading the data key from a file descriptor', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-keyfd-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function fdOf(bytes: Buffer): number {
    const path = join(dir, `k${bytes.length}`);
    writeFileSync(path, bytes, { mode: 0o600 });
    return openSync(path, 'r');
  }

  it('reads exactly 32 bytes from a redirected file', async () => {
    const key = Buffer.alloc(32, 7);
    expect((await readDataKeyFromFd(fdOf(key))).equals(key)).toBe(true);
  });

  it('refuses a short or long key and a descriptor that is not open', async () => {
    await expect(readDataKeyFromFd(fdOf(Buffer.alloc(31, 1)))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(readDataKeyFromFd(fdOf(Buffer.alloc(40, 1)))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(readDataKeyFromFd(987)).rejects.toMatchObject({ code: 'NOT_CONFIGURED' });
  });
});
