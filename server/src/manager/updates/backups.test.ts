/**
 * Backups through the updates part on a real manager database (SQLite and
 * PostgreSQL) and real gateway processes: the file holds no plaintext of any
 * message or secret; a restore brings back the source's store dump; one
 * flipped byte is refused and changes nothing; retention keeps what it
 * promises.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Backup } from '@autoclaw/shared';
import { openStore } from '../../store';
import { dumpTables } from '../db';
import { bundleGatewayCommand } from '../drivers/local/test-support';
import { pruneList } from './retention';
import { dumpGatewayDb, seedMessages, startUpdatesHarness, testReleaseKey, userData } from './test-releases';

let gateway: Awaited<ReturnType<typeof bundleGatewayCommand>>;
type H = Awaited<ReturnType<typeof startUpdatesHarness>>;
let h: H | null = null;
const key = testReleaseKey();

beforeAll(async () => {
  gateway = await bundleGatewayCommand();
}, 60_000);
afterAll(() => gateway?.dispose());
afterEach(async () => {
  await h?.close();
  h = null;
});

const backupFile = (harness: H, id: string, backupId: string) => join(harness.dir, 'backups', id, `${backupId}.acbk`);

describe('backups', () => {
  it('encrypts everything (no message or secret in the file), and a restore brings back the source store exactly', async () => {
    h = await startUpdatesHarness(gateway.command, { releaseKey: key.publicKey });
    const instance = await h.service.provision('owner@example.com');
    const dbPath = join(h.dir, 'instances', instance.id, 'gateway.db');
    await seedMessages(dbPath, 200, 'secret-plan');
    const store = openStore({ path: dbPath });
    store.putSkillDocument('notes', 'todo.md', 'the launch code is swordfish-42');
    store.close();
    writeFileSync(join(h.dir, 'instances', instance.id, 'workspace-marker.txt'), 'not in the backup');

    const backup = await h.part.backups.create(instance.id, 'manual');
    expect(backup).toMatchObject({ instanceId: instance.id, kind: 'manual' });
    expect(backup.bytes).toBeGreaterThan(0);
    const file = readFileSync(backupFile(h, instance.id, backup.id));
    for (const plain of ['secret-plan number 7', 'swordfish-42', 'CREATE TABLE', 'SQLite format']) expect(file.includes(Buffer.from(plain))).toBe(false);
    const source = userData(await dumpGatewayDb(dbPath));

    // Newer history after the backup, then the restore goes back to the backup's.
    await seedMessages(dbPath, 20, 'after-backup');
    expect(await dumpGatewayDb(dbPath)).toContain('after-backup number 3');
    const restored = await h.part.restorer.restore(instance.id, backup.id, 'operator');
    expect(restored.state).toBe('running');
    const now = await dumpGatewayDb(dbPath);
    expect(userData(now)).toBe(source);
    expect(now).not.toContain('after-backup');
    const states = (await h.service.lastEvents(instance.id, 100)).filter((e) => e.kind === 'transition').map((e) => e.to);
    expect(states.slice(-6)).toEqual(['stopping', 'stopped', 'restoring', 'stopped', 'starting', 'running']);
    expect((await h.part.backups.verify(instance.id, backup.id)).ok).toBe(true);
  }, 90_000);

  it('refuses a backup with one flipped byte at restore, and nothing changes', async () => {
    h = await startUpdatesHarness(gateway.command, { releaseKey: key.publicKey });
    const instance = await h.service.provision('owner@example.com');
    const dbPath = join(h.dir, 'instances', instance.id, 'gateway.db');
    await seedMessages(dbPath, 30, 'kept');
    const backup = await h.part.backups.create(instance.id, 'manual');
    const path = backupFile(h, instance.id, backup.id);
    const bytes = readFileSync(path);
    for (const at of [10, Math.floor(bytes.length / 2), bytes.length - 3]) {
      const flipped = Buffer.from(bytes);
      flipped[at] = (flipped[at] as number) ^ 0x01;
      writeFileSync(path, flipped);
      const before = { manager: await dumpTables(h.db), gateway: userData(await dumpGatewayDb(dbPath)) };
      await expect(h.part.restorer.restore(instance.id, backup.id, 'operator')).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('integrity check') });
      await expect(h.part.backups.verify(instance.id, backup.id)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      expect({ manager: await dumpTables(h.db), gateway: userData(await dumpGatewayDb(dbPath)) }).toEqual(before);
      expect((await h.service.mustGet(instance.id)).state).toBe('running');
    }
    // The recorded hash passes but the content was re-encrypted wrongly: the GCM tag and file hashes still refuse it.
    writeFileSync(path, bytes);
    expect((await h.part.backups.verify(instance.id, backup.id)).ok).toBe(true);
    await expect(h.part.restorer.restore(instance.id, 'bk-nope', 'operator')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  }, 90_000);

  it('keeps N daily and M weekly scheduled backups, the newest pre-update ones, and every manual one', async () => {
    const DAY = 86_400_000;
    const t0 = Date.UTC(2026, 0, 5, 3); // a Monday, 03:00
    const backups: Backup[] = [];
    for (let d = 0; d < 60; d++) backups.push({ id: `bk-s${d}`, instanceId: 'inst-a', createdAt: t0 + d * DAY, bytes: 1, kind: 'scheduled' });
    backups.push({ id: 'bk-s59b', instanceId: 'inst-a', createdAt: t0 + 59 * DAY + 60_000, bytes: 1, kind: 'scheduled' });
    for (let i = 0; i < 5; i++) backups.push({ id: `bk-p${i}`, instanceId: 'inst-a', createdAt: t0 + i * DAY + 1, bytes: 1, kind: 'pre-update' });
    backups.push({ id: 'bk-m0', instanceId: 'inst-a', createdAt: t0, bytes: 1, kind: 'manual' });
    const gone = new Set(pruneList(backups, { daily: 7, weekly: 4, preUpdate: 2 }));
    const kept = backups.filter((b) => !gone.has(b.id));
    const scheduled = kept.filter((b) => b.kind === 'scheduled');
    // The newest of each of the last 7 days (day 59's newest is s59b) …
    const daily = ['bk-s59b', 'bk-s58', 'bk-s57', 'bk-s56', 'bk-s55', 'bk-s54', 'bk-s53'];
    for (const id of daily) expect(scheduled.map((b) => b.id)).toContain(id);
    expect(scheduled.map((b) => b.id)).not.toContain('bk-s59');
    // … and the newest of each of the last 4 weeks (weeks start on Monday: days 56, 49, 42, 35 begin them) — two of them are daily ones too.
    for (const id of ['bk-s59b', 'bk-s55', 'bk-s48', 'bk-s41']) expect(scheduled.map((b) => b.id)).toContain(id);
    expect(scheduled).toHaveLength(daily.length + 2);
    expect(kept.filter((b) => b.kind === 'pre-update').map((b) => b.id).sort()).toEqual(['bk-p3', 'bk-p4']);
    expect(kept.some((b) => b.id === 'bk-m0')).toBe(true);
  });

  it('prunes stored files by the rule: only the kept backups remain on disk and in the list', async () => {
    let clock = Date.UTC(2026, 0, 5, 3);
    h = await startUpdatesHarness(gateway.command, { releaseKey: key.publicKey });
    const instance = await h.service.provision('owner@example.com');
    const part = (await import('./part')).createUpdatesPart;
    const pruning = await part({
      dataDir: h.dir,
      db: h.db,
      instances: h.service,
      masterKey: h.keys.masterKey,
      now: () => clock,
      logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
      builtInVersion: '0.1.0',
      retention: { daily: 2, weekly: 1, preUpdate: 1 },
    });
    for (let d = 0; d < 4; d++) {
      await pruning.backups.create(instance.id, 'scheduled');
      clock += 86_400_000;
    }
    await pruning.backups.create(instance.id, 'pre-update');
    await pruning.backups.create(instance.id, 'pre-update');
    const listed = await pruning.backups.list(instance.id);
    expect(listed.map((b) => b.kind)).toEqual(['pre-update', 'scheduled', 'scheduled']);
    expect(readdirSync(join(h.dir, 'backups', instance.id)).sort()).toEqual(listed.map((b) => `${b.id}.acbk`).sort());
  }, 60_000);
});
