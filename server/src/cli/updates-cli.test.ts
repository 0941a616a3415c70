/**
 * `autoclaw releases|backup|instances update|rollback` as operators script
 * them, from the built bundle, straight on the data directory (no manager
 * running): the exact commands, flags and JSON fields the issue names.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance, Release, UpdateRun } from '@autoclaw/shared';
import { createTestDatabase, testEngine } from '../manager/db/test-db';
import type { TestDatabase } from '../manager/db/test-db';
import { killGateways, REPO_ROOT } from '../manager/drivers/local/test-support';
import { buildTestRelease, testReleaseKey } from '../manager/updates/test-releases';
import type { BuiltRelease } from '../manager/updates/test-releases';
import { ensureBundle, ownerWithInstance, runCli } from './cli-harness';

let database: TestDatabase;
let ENV: Record<string, string> = { AUTOCLAW_MASTER_KEY_STORE: 'file', AUTOCLAW_UPDATE_HEALTH_WINDOW_MS: '1000' };
const key = testReleaseKey();
/** stderr lines other than the warning about a file master key (the test's own choice). */
const errors = (stderr: string) => stderr.split('\n').filter((l) => l.trim() !== '' && !l.includes('master key is kept in a file'));

describe(`autoclaw releases, backup, instances update|rollback (${testEngine()})`, () => {
  let dir: string;
  let out: string;
  let release: BuiltRelease;
  let id: string;
  beforeAll(async () => {
    ensureBundle();
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-ucli-'));
    const cache = join(REPO_ROOT, 'node_modules/.cache/autoclaw-tests');
    mkdirSync(cache, { recursive: true });
    out = mkdtempSync(join(cache, 'cli-releases-'));
    release = await buildTestRelease(out, { version: '3.0.0', kind: 'good', key: key.privateKey });
    database = await createTestDatabase(dir);
    ENV = { ...ENV, ...database.env };
    id = await ownerWithInstance(dir, ENV);
  }, 120_000);
  afterAll(async () => {
    killGateways(dir);
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });

  it('adds a release only with a trusted key, and lists it as JSON', async () => {
    const refused = await runCli(['releases', 'add', '--data', dir, release.manifestPath], { env: ENV });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('not a trusted release key');
    const added = await runCli(['releases', 'add', '--data', dir, release.manifestPath, '--release-pubkey', key.publicKey], { env: ENV });
    expect(errors(added.stderr)).toEqual([]);
    expect(added.stdout).toBe('added 3.0.0 (stable)\n');
    const listed = await runCli(['releases', 'list', '--data', dir, '--json'], { env: ENV });
    expect((JSON.parse(listed.stdout) as Release[]).map((r) => [r.version, r.channel])).toEqual([['3.0.0', 'stable']]);
    expect((await runCli(['releases', 'remove', '--data', dir], { env: ENV })).code).toBe(2);
  }, 60_000);

  it('creates, lists, verifies and restores backups', async () => {
    const created = await runCli(['backup', 'create', '--data', dir, id, '--json'], { env: ENV });
    expect(errors(created.stderr)).toEqual([]);
    const backupId = (JSON.parse(created.stdout) as { id: string }).id;
    const listed = JSON.parse((await runCli(['backup', 'list', '--data', dir, id, '--json'], { env: ENV })).stdout) as Array<Record<string, unknown>>;
    expect(listed).toHaveLength(1);
    expect(Object.keys(listed[0]!).sort()).toEqual(['bytes', 'createdAt', 'id', 'kind']);
    expect(listed[0]).toMatchObject({ id: backupId, kind: 'manual' });
    expect((await runCli(['backup', 'verify', '--data', dir, id, backupId], { env: ENV })).stdout).toMatch(new RegExp(`^${backupId}: ok`));
    const restored = await runCli(['backup', 'restore', '--data', dir, id, backupId], { env: ENV });
    expect(errors(restored.stderr)).toEqual([]);
    expect(restored.stdout).toBe(`${id} restored from ${backupId}; running\n`);
    expect((await runCli(['backup', 'verify', '--data', dir, id], { env: ENV })).code).toBe(2);
  }, 90_000);

  it('updates to a version and rolls back to the previous one', async () => {
    const updated = await runCli(['instances', 'update', '--data', dir, id, '--version', '3.0.0', '--json'], { env: ENV });
    expect(errors(updated.stderr)).toEqual([]);
    expect(JSON.parse(updated.stdout) as UpdateRun).toMatchObject({ outcome: 'succeeded', toVersion: '3.0.0' });
    const back = await runCli(['instances', 'rollback', '--data', dir, id], { env: ENV });
    expect(errors(back.stderr)).toEqual([]);
    expect(back.stdout).toMatch(new RegExp(`^${id}: rolled back 3\\.0\\.0 → `));
    const bad = await runCli(['instances', 'update', '--data', dir, id, '--version', 'latest'], { env: ENV });
    expect(bad.code).toBe(2);
    const unknown = await runCli(['instances', 'update', '--data', dir, id, '--version', '9.9.9'], { env: ENV });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no release 9.9.9');
    const kinds = JSON.parse((await runCli(['backup', 'list', '--data', dir, id, '--json'], { env: ENV })).stdout) as Array<{ kind: string }>;
    expect(kinds.filter((b) => b.kind === 'pre-update')).toHaveLength(2);
  }, 120_000);

  it('restores a backup into a new instance, makes it the primary, deletes the old one', async () => {
    const backupId = (JSON.parse((await runCli(['backup', 'create', '--data', dir, id, '--json'], { env: ENV })).stdout) as { id: string }).id;
    const unknown = await runCli(['backup', 'restore', '--data', dir, id, 'bk-nope-0000', '--into-new'], { env: ENV });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('has no backup bk-nope-0000');
    const made = await runCli(['backup', 'restore', '--data', dir, id, backupId, '--into-new'], { env: ENV });
    expect(errors(made.stderr)).toEqual([]);
    const newId = made.stdout.split(' ')[0] as string;
    expect(made.stdout).toBe(`${newId} running (a new instance restored from ${backupId} of ${id})\n`);
    const listed = () => runCli(['instances', 'list', '--data', dir, '--json'], { env: ENV }).then((r) => (JSON.parse(r.stdout) as Instance[]).map((i) => [i.id, i.state, i.primary ?? true]));
    expect(await listed()).toEqual([
      [id, 'running', true],
      [newId, 'running', false],
    ]);
    const primary = await runCli(['instances', 'primary', '--data', dir, newId, '--json'], { env: ENV });
    expect(errors(primary.stderr)).toEqual([]);
    expect(JSON.parse(primary.stdout)).toMatchObject({ id: newId, state: 'running' });
    expect((await runCli(['instances', 'primary', '--data', dir], { env: ENV })).code).toBe(2);
    expect((await runCli(['instances', 'delete', '--data', dir, id], { env: ENV })).stdout).toBe(`deleted ${id}\n`);
    expect(await listed()).toEqual([[newId, 'running', true]]);
  }, 120_000);
});

