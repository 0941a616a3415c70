/**
 * Issue 8, item 6: the store's files are private. A gateway and a manager
 * started on a pre-made 0755 data directory tighten it to 0700, and every
 * file they make there (the database with its -wal and -shm, keys, the
 * runtime file, the audit head) is 0600; a database left 0644 by an older
 * version is tightened too.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../store';
import { startTestManager } from '../manager/test-kit';
import { startTestGateway } from './test-kit';

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8).padStart(4, '0');

/** Every entry of `dir` (not recursing) with its mode. */
function modes(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((name) => [name, mode(join(dir, name))]));
}

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(process.platform === 'win32')('file modes', () => {
  it('a gateway tightens a 0755 data directory and makes its store files 0600', async () => {
    root = mkdtempSync(join(tmpdir(), 'autoclaw-modes-'));
    const dir = join(root, 'gw');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    // A database an older version left world-readable.
    const old = openStore({ path: join(dir, 'gateway.db') });
    old.close();
    chmodSync(join(dir, 'gateway.db'), 0o644);

    const t = await startTestGateway({ dir, keepDir: true });
    try {
      t.gateway.store.ensureSession('main');
      expect(mode(dir)).toBe('0700');
      const files = modes(dir);
      for (const name of ['gateway.db', 'gateway.db-wal', 'gateway.db-shm', 'runtime.json', 'data.key', 'operator.key']) {
        expect([name, files[name]]).toEqual([name, '0600']);
      }
      expect(files['workspace']).toBe('0700');
    } finally {
      await t.close();
    }
  });

  it('a new gateway database and its -wal and -shm are 0600 from the start', () => {
    root = mkdtempSync(join(tmpdir(), 'autoclaw-modes-'));
    const store = openStore({ path: join(root, 'fresh', 'gateway.db') });
    try {
      store.ensureSession('main');
      expect(mode(join(root, 'fresh'))).toBe('0700');
      expect(modes(join(root, 'fresh'))).toEqual({ 'gateway.db': '0600', 'gateway.db-wal': '0600', 'gateway.db-shm': '0600' });
    } finally {
      store.close();
    }
  });

  it('a manager tightens a 0755 data directory and makes its files 0600', async () => {
    root = mkdtempSync(join(tmpdir(), 'autoclaw-modes-'));
    const dir = join(root, 'mgr');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'manager.db'), '');
    chmodSync(join(dir, 'manager.db'), 0o644);
    const t = await startTestManager({ dir });
    try {
      await t.setupOwner();
      expect(mode(dir)).toBe('0700');
      const files = modes(dir);
      for (const name of ['manager.db', 'manager.db-wal', 'manager.db-shm', 'manager.key', 'master.key', 'operator.key', 'audit-head.json', 'manager-runtime.json']) {
        expect([name, files[name]]).toEqual([name, '0600']);
      }
    } finally {
      await t.close();
    }
  });
});
