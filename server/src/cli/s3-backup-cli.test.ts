/**
 * `autoclaw backup create|list|verify|restore` with backups in S3
 * (AUTOCLAW_BACKUP_S3_*), from the built bundle, against a loopback S3
 * server driven by the real SDK: the files land in the bucket, never under
 * DIR/backups; the credentials given once are sealed, so a later command
 * without them still reaches the bucket; no output shows the secret.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../manager/db/test-db';
import type { TestDatabase } from '../manager/db/test-db';
import { killGateways } from '../manager/drivers/local/test-support';
import { startS3Server } from '../testing';
import type { S3Server } from '../testing';
import { ensureBundle, ownerWithInstance, runCli } from './cli-harness';

const SECRET = 'cli-test-secret-0123456789abcdefghijkl';

describe('autoclaw backup with an S3 target', () => {
  let dir: string;
  let database: TestDatabase;
  let s3: S3Server;
  let id: string;
  let base: Record<string, string>;
  beforeAll(async () => {
    ensureBundle();
    s3 = await startS3Server({ bucket: 'team-backups', accessKeyId: 'AKIACLITEST000000001', region: 'eu-west-1' });
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-s3cli-'));
    database = await createTestDatabase(dir);
    base = { AUTOCLAW_MASTER_KEY_STORE: 'file', ...database.env };
    id = await ownerWithInstance(dir, base);
  }, 120_000);
  afterAll(async () => {
    killGateways(dir);
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
    await s3.close();
  });

  it('creates, lists, verifies and restores backups in the bucket', async () => {
    const env = {
      ...base,
      AUTOCLAW_BACKUP_S3_ENDPOINT: s3.url,
      AUTOCLAW_BACKUP_S3_BUCKET: 'team-backups',
      AUTOCLAW_BACKUP_S3_REGION: 'eu-west-1',
      AUTOCLAW_BACKUP_S3_ACCESS_KEY_ID: 'AKIACLITEST000000001',
      AUTOCLAW_BACKUP_S3_SECRET_ACCESS_KEY: SECRET,
    };
    const created = await runCli(['backup', 'create', '--data', dir, id, '--json'], { env });
    expect([created.code, created.stderr]).toEqual([0, expect.any(String)]);
    const backupId = (JSON.parse(created.stdout) as { id: string }).id;
    expect([...s3.objects.keys()]).toEqual([`${id}/${backupId}.acbk`]);
    expect(existsSync(join(dir, 'backups')) ? readdirSync(join(dir, 'backups')) : []).toEqual([]);

    // Later commands carry no credentials (nor any S3 setting): the sealed ones are used.
    const later = { ...base };
    const listed = JSON.parse((await runCli(['backup', 'list', '--data', dir, id, '--json'], { env: later })).stdout) as Array<{ id: string; kind: string }>;
    expect(listed).toMatchObject([{ id: backupId, kind: 'manual' }]);
    const verified = await runCli(['backup', 'verify', '--data', dir, id, backupId], { env: later });
    expect(verified.stdout).toMatch(new RegExp(`^${backupId}: ok`));
    const restored = await runCli(['backup', 'restore', '--data', dir, id, backupId], { env: later });
    expect(restored.stdout).toBe(`${id} restored from ${backupId}; running\n`);
    expect(s3.requests.filter((r) => r.operation === 'GetObject').length).toBeGreaterThanOrEqual(2);
    for (const out of [created, verified, restored]) expect(`${out.stdout}${out.stderr}`).not.toContain(SECRET);

    const bad = await runCli(['backup', 'list', '--data', dir, id], { env: { ...later, AUTOCLAW_BACKUP_S3_ENDPOINT: s3.url } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('AUTOCLAW_BACKUP_S3_ENDPOINT and AUTOCLAW_BACKUP_S3_BUCKET go together');
  }, 120_000);
});
