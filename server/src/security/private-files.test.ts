import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensurePrivateDir } from './private-files';

const mode = (path: string): number => statSync(path).mode & 0o777;

describe.skipIf(process.platform === 'win32')('private data directories', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'autoclaw-private-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('makes a new directory (and its parents) 0700 and tightens an existing 0755 one', () => {
    expect(ensurePrivateDir(join(root, 'a', 'b'))).toBeNull();
    expect(mode(join(root, 'a', 'b'))).toBe(0o700);
    const loose = join(root, 'loose');
    mkdirSync(loose);
    chmodSync(loose, 0o755);
    expect(ensurePrivateDir(loose)).toBeNull();
    expect(mode(loose)).toBe(0o700);
  });

  it('warns, with the reason and the command to run, when a looser directory cannot be tightened', () => {
    const loose = join(root, 'theirs');
    mkdirSync(loose);
    chmodSync(loose, 0o755);
    const refuse = () => {
      throw Object.assign(new Error('operation not permitted'), { code: 'EPERM' });
    };
    expect(ensurePrivateDir(loose, refuse)).toBe(
      `data directory ${loose} can be read by other users (mode 0755) and could not be restricted (EPERM); run \`chmod 700 ${loose}\``,
    );
    expect(mode(loose)).toBe(0o755);
  });
});
