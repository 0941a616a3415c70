/**
 * What a Kubernetes Job runs on an instance's volume (`autoclaw volume …`),
 * where the manager cannot reach the files:
 * * `backup`: the same snapshot as the local driver's (SQLite's online backup
 *   API + the workspace), packed and encrypted under the instance's data key
 *   (mounted from its Secret), put to the S3 target as
 *   `<instanceId>/<backupId>.acbk`; the manager then reads it back, hashes and
 *   records it.
 * * `restore`: gets the backup from S3, checks the SHA-256 the manager
 *   recorded and every file hash, stages the files on the volume and swaps
 *   them in (the gateway is stopped; a re-run finishes a half-done swap);
 *   into a new instance (`rekeyDataKeyFile`), the staged secrets are
 *   re-sealed under the new instance's own key before the swap.
 * * `copy`: a consistent copy of a (possibly live) volume onto another one
 *   (a trial's clone where the cluster has no VolumeSnapshots).
 * S3 settings come from AUTOCLAW_BACKUP_S3_* (a Secret the manager writes).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '@autoclaw/shared';
import { readDataKeyFile } from '../../security';
import { openArchive, packArchive } from './archive';
import { rekeyGatewayDb } from './rekey';
import { backupKey } from './backup-target';
import { s3BackupTarget } from './s3-target';
import type { S3Settings } from './s3-target';
import { stageFiles, swapInStaged, takeSnapshot } from './snapshot';

export type VolumeJob =
  | { action: 'backup'; dataDir: string; dataKeyFile: string; instanceId: string; backupId: string; createdAt: number }
  | { action: 'restore'; dataDir: string; dataKeyFile: string; instanceId: string; backupId: string; sha256: string; rekeyDataKeyFile?: string }
  | { action: 'copy'; from: string; dataDir: string };

/** The S3 target of a job, from its environment (parsed once by the command). */
export function s3FromEnv(env: NodeJS.ProcessEnv): S3Settings {
  const need = (name: string): string => {
    const v = env[name];
    if (!v) throw new AppError('NOT_CONFIGURED', `${name} is not set (the manager puts the backup target in the job's Secret)`);
    return v;
  };
  return {
    endpoint: need('AUTOCLAW_BACKUP_S3_ENDPOINT'),
    bucket: need('AUTOCLAW_BACKUP_S3_BUCKET'),
    region: env.AUTOCLAW_BACKUP_S3_REGION || 'us-east-1',
    credentials: { accessKeyId: need('AUTOCLAW_BACKUP_S3_ACCESS_KEY_ID'), secretAccessKey: need('AUTOCLAW_BACKUP_S3_SECRET_ACCESS_KEY') },
  };
}

const STAGING = '.autoclaw-restore';
const SCRATCH = '.autoclaw-scratch';

/** A restore into a new instance: the staged copy's secrets re-sealed under its own key (read from its Secret). */
async function resealStaged(staging: string, from: Buffer, toFile: string, dataDir: string): Promise<number> {
  const to = readDataKeyFile(toFile, { dataDir });
  try {
    return existsSync(join(staging, 'gateway.db')) ? (await rekeyGatewayDb(join(staging, 'gateway.db'), from, to)).resealed : 0;
  } finally {
    to.fill(0);
  }
}

/** Runs one job; resolves with a one-line summary (never a secret). */
export async function runVolumeJob(job: VolumeJob, s3: () => S3Settings): Promise<string> {
  if (job.action === 'copy') {
    const files = await takeSnapshot(job.from, join(job.dataDir, SCRATCH));
    stageFiles(join(job.dataDir, STAGING), files);
    swapInStaged(job.dataDir, join(job.dataDir, STAGING));
    return `copied ${files.length} files`;
  }
  const key = readDataKeyFile(job.dataKeyFile, { dataDir: job.dataDir });
  const target = s3BackupTarget(s3());
  try {
    const objectKey = backupKey(job.instanceId, job.backupId);
    if (job.action === 'backup') {
      const files = await takeSnapshot(job.dataDir, join(job.dataDir, SCRATCH));
      const file = packArchive(files, { id: job.backupId, instanceId: job.instanceId, createdAt: job.createdAt }, key);
      await target.put(objectKey, file);
      return `backup ${job.backupId}: ${files.length} files, ${file.length} bytes`;
    }
    const file = await target.get(objectKey);
    if (createHash('sha256').update(file).digest('hex') !== job.sha256) throw new AppError('BAD_REQUEST', `backup ${job.backupId} failed its integrity check (its SHA-256 is not the recorded one); nothing was restored`);
    const { files } = openArchive(file, key, { id: job.backupId, instanceId: job.instanceId });
    // A half-done swap from an earlier attempt is finished by staging again and swapping.
    stageFiles(join(job.dataDir, STAGING), files);
    const resealed = job.rekeyDataKeyFile ? await resealStaged(join(job.dataDir, STAGING), key, job.rekeyDataKeyFile, job.dataDir) : null;
    swapInStaged(job.dataDir, join(job.dataDir, STAGING));
    return `restored backup ${job.backupId}: ${files.length} files${resealed === null ? '' : `, ${resealed} secrets re-sealed under the new instance's key`}`;
  } finally {
    key.fill(0);
    target.close();
  }
}
