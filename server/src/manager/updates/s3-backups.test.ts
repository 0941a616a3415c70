/**
 * Backups in S3 through the real `@aws-sdk/client-s3` against a loopback
 * server speaking the S3 API (testing/s3-server.ts): backup → list → verify
 * → restore; a large backup goes as a multipart upload; the credentials are
 * sealed in the manager's state (a manager started later without them still
 * reaches the bucket), never in plain text; wrong credentials give a typed
 * error and leave nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startS3Server } from '../../testing';
import type { S3Server } from '../../testing';
import { dumpTables } from '../db';
import { bundleGatewayCommand } from '../drivers/local/test-support';
import { BUILT_IN_VERSION, dumpGatewayDb, seedMessages, startUpdatesHarness, testReleaseKey, userData } from './test-releases';
import { createUpdatesPart } from './part';

let gateway: Awaited<ReturnType<typeof bundleGatewayCommand>>;
type H = Awaited<ReturnType<typeof startUpdatesHarness>>;
let h: H | null = null;
let s3: S3Server | null = null;
const key = testReleaseKey();
const CREDENTIALS = { accessKeyId: 'AKIAAUTOCLAWTEST0001', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY' };
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

beforeAll(async () => {
  gateway = await bundleGatewayCommand();
}, 60_000);
afterAll(() => gateway?.dispose());
afterEach(async () => {
  await h?.close();
  h = null;
  await s3?.close();
  s3 = null;
});

async function s3Part(harness: H, o: { credentials?: typeof CREDENTIALS; endpoint?: string } = {}) {
  return createUpdatesPart({
    dataDir: harness.dir,
    db: harness.db,
    instances: harness.service,
    masterKey: harness.keys.masterKey,
    now: Date.now,
    logger: quiet,
    builtInVersion: BUILT_IN_VERSION,
    s3: { endpoint: o.endpoint ?? (s3 as S3Server).url, bucket: 'autoclaw-backups', region: 'eu-central-1', ...(o.credentials ? { credentials: o.credentials } : {}) },
    s3PartBytes: 5 * 1024 * 1024,
  });
}

describe('backups in S3', () => {
  it('backup → list → verify → restore through the S3 API; a large backup goes multipart; the credentials stay sealed', async () => {
    s3 = await startS3Server({ bucket: 'autoclaw-backups', accessKeyId: CREDENTIALS.accessKeyId, region: 'eu-central-1' });
    h = await startUpdatesHarness(gateway.command, { releaseKey: key.publicKey });
    const instance = await h.service.provision('owner@example.com');
    const dataDir = join(h.dir, 'instances', instance.id);
    const dbPath = join(dataDir, 'gateway.db');
    await seedMessages(dbPath, 300, 'kept-in-s3');
    const part = await s3Part(h, { credentials: CREDENTIALS });
    expect(part.backupTargetKind).toBe('s3');

    // Small: one PutObject.
    const small = await part.backups.create(instance.id, 'manual');
    const smallKey = `${instance.id}/${small.id}.acbk`;
    expect(s3.requests.filter((r) => r.key === smallKey).map((r) => r.operation)).toEqual(['PutObject']);
    expect(s3.objects.get(smallKey)?.length).toBe(small.bytes);
    expect(existsSync(join(h.dir, 'backups', instance.id, `${small.id}.acbk`))).toBe(false);
    const source = userData(await dumpGatewayDb(dbPath));

    // Large (an incompressible 11 MiB workspace file): a multipart upload of 5 MiB parts.
    mkdirSync(join(dataDir, 'workspace'), { recursive: true });
    writeFileSync(join(dataDir, 'workspace', 'photo.raw'), randomBytes(11 * 1024 * 1024));
    const large = await part.backups.create(instance.id, 'manual');
    const largeKey = `${instance.id}/${large.id}.acbk`;
    const ops = s3.requests.filter((r) => r.key === largeKey);
    expect(ops.map((r) => r.operation)).toEqual(['CreateMultipartUpload', 'UploadPart', 'UploadPart', 'UploadPart', 'CompleteMultipartUpload']);
    expect(ops.filter((r) => r.operation === 'UploadPart').map((r) => r.bytes).slice(0, 2)).toEqual([5 * 1024 * 1024, 5 * 1024 * 1024]);
    expect(s3.objects.get(largeKey)?.length).toBe(large.bytes);
    expect(s3.openUploads()).toBe(0);

    expect((await part.backups.list(instance.id)).map((b) => b.id)).toEqual([large.id, small.id]);
    expect(await part.backups.verify(instance.id, large.id)).toMatchObject({ ok: true });
    expect((await part.backups.verify(instance.id, large.id)).bytes).toBeGreaterThan(11 * 1024 * 1024);

    // Restore the small one (history after it goes away, the workspace file too).
    await seedMessages(dbPath, 10, 'after-backup');
    expect((await part.restorer.restore(instance.id, small.id, 'operator')).state).toBe('running');
    expect(userData(await dumpGatewayDb(dbPath))).toBe(source);
    expect(existsSync(join(dataDir, 'workspace', 'photo.raw'))).toBe(false);
    expect(s3.requests.some((r) => r.operation === 'GetObject' && r.key === smallKey)).toBe(true);

    // The secret is sealed, not stored in plain text; a manager started later without it still reaches the bucket.
    expect(await dumpTables(h.db)).not.toContain(CREDENTIALS.secretAccessKey);
    await part.close();
    const later = await createUpdatesPart({ dataDir: h.dir, db: h.db, instances: h.service, masterKey: h.keys.masterKey, now: Date.now, logger: quiet, builtInVersion: BUILT_IN_VERSION });
    expect(later.backupTargetKind).toBe('s3');
    expect(await later.backups.verify(instance.id, small.id)).toMatchObject({ ok: true });
    await later.close();
  }, 120_000);

  it('wrong credentials: a typed error, no backup recorded, and a missing object is NOT_FOUND', async () => {
    s3 = await startS3Server({ bucket: 'autoclaw-backups', accessKeyId: CREDENTIALS.accessKeyId });
    h = await startUpdatesHarness(gateway.command, { releaseKey: key.publicKey });
    const instance = await h.service.provision('owner@example.com');
    const wrong = await s3Part(h, { credentials: { accessKeyId: 'AKIAWRONGWRONGWRONG0', secretAccessKey: 'nope' } });
    const before = await dumpTables(h.db);
    const err = await wrong.backups.create(instance.id, 'manual').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('InvalidAccessKeyId') });
    expect((err as Error).message).not.toContain('nope');
    expect(await dumpTables(h.db)).toBe(before);
    expect(s3.objects.size).toBe(0);
    await wrong.close();

    const right = await s3Part(h, { credentials: CREDENTIALS });
    const made = await right.backups.create(instance.id, 'manual');
    s3.objects.delete(`${instance.id}/${made.id}.acbk`);
    await expect(right.backups.verify(instance.id, made.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await right.close();
  }, 90_000);
});
