/**
 * The updates part as the manager runs it: releases, each instance's
 * version, backups (to DIR/backups or S3), the updater and the restorer,
 * and — on the leader — recovery of interrupted updates and restores
 * (before the instances part settles its instances) and the schedule.
 */
import { join } from 'node:path';
import { AppError } from '@autoclaw/shared';
import type { InstanceRelease } from '@autoclaw/shared';
import type { Fence, ManagerDb } from '../db';
import type { Logger } from '../gateway-parts';
import type { InstanceService } from '../instances';
import { unwrapDataKey } from '../keys';
import { localBackupTarget } from './backup-target';
import { loadS3Setting, saveS3Setting } from './backup-settings';
import type { BackupS3Setting } from './backup-settings';
import { s3BackupTarget } from './s3-target';
import type { BackupTarget } from './backup-target';
import { createBackupService } from './backups';
import { BUILT_IN_RELEASE_PUBLIC_KEY } from './manifest';
import { compareVersions, createReleaseCatalogue } from './releases';
import { createRestoreIntoNew, migrateRestoreInto } from './restore-into-new';
import type { RestoreIntoNewDeps } from './restore-into-new';
import { createRestorer } from './restorer';
import type { RestorerDeps } from './restorer';
import { DEFAULT_RETENTION } from './retention';
import type { Retention } from './retention';
import { createSchedule, DEFAULT_BACKUP_CRON } from './schedule';
import { migrateUpdates } from './schema';
import { createUpdater } from './updater';
import type { UpdaterDeps, UpdateTimings } from './updater';
import { createVersions } from './versions';

export interface UpdatesPartOptions {
  dataDir: string;
  db: ManagerDb;
  instances: InstanceService;
  masterKey: Buffer;
  now: () => number;
  logger: Logger;
  /** The version of the built-in gateway build (instances run it until updated). */
  builtInVersion: string;
  /** Release keys trusted besides the built-in one (--release-pubkey). */
  releaseKeys?: readonly string[];
  /** Default: S3 when set (see `s3`), else DIR/backups. */
  backupTarget?: BackupTarget;
  /** The S3 setting from the manager's config: recorded (credentials sealed) and used from now on. */
  s3?: BackupS3Setting;
  /** Multipart part size for S3 uploads (tests make it small). */
  s3PartBytes?: number;
  retention?: Partial<Retention>;
  backupCron?: string;
  timings?: Partial<UpdateTimings>;
  /** Test seams (the kill -9 tests). */
  afterUpdateStep?: UpdaterDeps['afterStep'];
  afterRestoreStep?: RestorerDeps['afterStep'];
  afterRestoreIntoStep?: RestoreIntoNewDeps['afterStep'];
}

export async function createUpdatesPart(opts: UpdatesPartOptions) {
  await migrateUpdates(opts.db);
  await migrateRestoreInto(opts.db);
  const { db, dataDir, instances, now, logger } = opts;
  const dataDirOf = (id: string) => join(dataDir, 'instances', id);
  const scratchDir = join(dataDir, 'scratch');
  const versions = createVersions(db, opts.builtInVersion);
  if (opts.s3) await saveS3Setting(db, opts.masterKey, opts.s3, now());
  const s3 = await loadS3Setting(db, opts.masterKey);
  const s3Target = s3 ? s3BackupTarget({ ...s3, ...(opts.s3PartBytes ? { partBytes: opts.s3PartBytes } : {}) }) : null;
  const localTarget = localBackupTarget(join(dataDir, 'backups'));
  async function dataKeyOf(instanceId: string): Promise<Buffer> {
    const row = await db.k.selectFrom('instances').select('wrapped_key').where('id', '=', instanceId).executeTakeFirst();
    if (!row) throw new AppError('NOT_FOUND', `no instance ${instanceId}`);
    return unwrapDataKey(opts.masterKey, row.wrapped_key, instanceId);
  }
  const releases = createReleaseCatalogue({ db, dataDir, now, trustedKeys: [BUILT_IN_RELEASE_PUBLIC_KEY, ...(opts.releaseKeys ?? [])], forKubernetes: instances.driverKind === 'kubernetes' });
  const backups = createBackupService({
    db,
    target: opts.backupTarget ?? s3Target ?? localTarget,
    targets: { local: localTarget, ...(s3Target ? { s3: s3Target } : {}) },
    now,
    dataDirOf,
    scratchDir,
    retention: { ...DEFAULT_RETENTION, ...opts.retention },
    remoteOf(instanceId) {
      const volumes = instances.volumesOf(instanceId);
      if (!volumes) return null;
      if (!s3) throw new AppError('NOT_CONFIGURED', 'backups of Kubernetes instances go to S3-compatible storage: set AUTOCLAW_BACKUP_S3_ENDPOINT, _BUCKET and the credentials');
      const store = { endpoint: s3.endpoint, bucket: s3.bucket, region: s3.region, credentials: s3.credentials };
      return {
        rollsInPlace: volumes.rollsInPlace,
        backup: (backupId, createdAt) => volumes.backup({ backupId, createdAt, store }),
        restore: (backupId, sha256, into, intoNew) => volumes.restore({ backupId, sha256, store, ...(into ? { into } : {}), ...(intoNew ? { intoNew } : {}) }),
        clone: (cloneId) => volumes.clone(cloneId),
      };
    },
    envelopeKeyOf: dataKeyOf,
  });
  const updater = createUpdater({ db, instances, releases, backups, versions, dataDirOf, scratchDir, now, logger, ...(opts.timings ? { timings: opts.timings } : {}), ...(opts.afterUpdateStep ? { afterStep: opts.afterUpdateStep } : {}) });
  const restorer = createRestorer({ db, instances, backups, dataDirOf, now, logger, ...(opts.afterRestoreStep ? { afterStep: opts.afterRestoreStep } : {}) });
  const restoreIntoNew = createRestoreIntoNew({ db, instances, backups, versions, dataDirOf, dataKeyOf, now, logger, ...(opts.afterRestoreIntoStep ? { afterStep: opts.afterRestoreIntoStep } : {}) });
  const schedule = createSchedule({ db, instances, backups, releases, versions, updater, now, logger, backupCron: opts.backupCron ?? DEFAULT_BACKUP_CRON });

  return {
    releases,
    versions,
    backups,
    updater,
    restorer,
    restoreIntoNew,
    schedule,
    /** What the Instance page shows. */
    async status(instanceId: string): Promise<InstanceRelease> {
      const row = await versions.ensure(instanceId);
      const newest = await releases.newest(row.channel);
      return {
        instanceId,
        version: row.version,
        previousVersion: row.previous_version,
        channel: row.channel,
        window: row.window_start === null || row.window_end === null ? null : { startMinute: row.window_start, endMinute: row.window_end },
        lastUpdatedAt: row.last_updated_at,
        lastBackupAt: row.last_backup_at,
        available: newest && compareVersions(newest.version, row.version) > 0 ? newest.version : null,
      };
    },
    /** The leader settles interrupted updates and restores (before instances are recovered). */
    async recover(fence?: Fence): Promise<void> {
      const updated = await updater.recover(fence);
      const restored = await restorer.recover(fence);
      const intoNew = await restoreIntoNew.recover(fence);
      if (updated.length + restored.length + intoNew.length > 0) logger.info('updates and restores settled after a restart', { updates: updated.length, restores: restored.length, intoNew: intoNew.length });
    },
    lead: (fence: Fence) => schedule.start(fence),
    unlead: () => schedule.stop(),
    /** Where new backups go: `local` (DIR/backups) or `s3`. */
    backupTargetKind: (opts.backupTarget ?? s3Target ?? localTarget).kind,
    async close() {
      await schedule.stop();
      s3Target?.close();
    },
  };
}

export type UpdatesPart = Awaited<ReturnType<typeof createUpdatesPart>>;
