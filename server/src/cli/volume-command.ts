/**
 * `autoclaw volume backup|restore|copy`: what the manager's Kubernetes Jobs
 * run in a pod that mounts an instance's volume (see
 * manager/updates/volume-job.ts). Not meant to be typed by hand.
 */
import { UsageError } from '../gateway';
import { runVolumeJob, s3FromEnv } from '../manager';
import type { VolumeJob } from '../manager';
import { parseFlags } from './args';
import type { CliIO } from './io';

const ID = /^[A-Za-z0-9_-]{1,64}$/;

function need(values: Record<string, string | boolean | undefined>, flag: string): string {
  const v = values[flag];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${flag} is required`);
  return v;
}

function idFlag(values: Record<string, string | boolean | undefined>, flag: string): string {
  const v = need(values, flag);
  if (!ID.test(v)) throw new UsageError(`--${flag} is not an id`);
  return v;
}

export function parseVolumeJob(args: string[]): VolumeJob {
  const [action, ...rest] = args;
  const { values } = parseFlags(rest, {
    data: { type: 'string' },
    from: { type: 'string' },
    'data-key-file': { type: 'string' },
    'instance-id': { type: 'string' },
    'backup-id': { type: 'string' },
    'created-at': { type: 'string' },
    sha256: { type: 'string' },
    'rekey-data-key-file': { type: 'string' },
  });
  const dataDir = need(values, 'data');
  if (action === 'copy') return { action, from: need(values, 'from'), dataDir };
  const common = { dataDir, dataKeyFile: need(values, 'data-key-file'), instanceId: idFlag(values, 'instance-id'), backupId: idFlag(values, 'backup-id') };
  if (action === 'backup') {
    const createdAt = Number(need(values, 'created-at'));
    if (!Number.isSafeInteger(createdAt) || createdAt <= 0) throw new UsageError('--created-at is milliseconds since the epoch');
    return { action, ...common, createdAt };
  }
  if (action === 'restore') {
    const sha256 = need(values, 'sha256');
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new UsageError('--sha256 is 64 hex digits');
    const rekey = values['rekey-data-key-file'];
    return { action, ...common, sha256, ...(typeof rekey === 'string' && rekey !== '' ? { rekeyDataKeyFile: rekey } : {}) };
  }
  throw new UsageError('volume: backup, restore or copy');
}

export async function run(args: string[], io: CliIO): Promise<number> {
  const job = parseVolumeJob(args);
  // Config is read once, here: the job's Secret puts the S3 target in the environment.
  const env = { ...process.env };
  io.stdout.write(`${await runVolumeJob(job, () => s3FromEnv(env))}\n`);
  return 0;
}
