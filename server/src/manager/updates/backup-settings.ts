/**
 * The backup target setting: S3 endpoint, bucket and region, with the
 * credentials sealed by the manager's master key (the vault) in the manager
 * database — given once (AUTOCLAW_BACKUP_S3_*), then every manager replica
 * and the offline CLI read them from there. Nothing here is ever logged.
 */
import { AppError } from '@autoclaw/shared';
import { createVault } from '../../security';
import type { ManagerDb } from '../db';
import type { BackupTargetTable } from './schema';
import type { S3Settings } from './s3-target';

export interface BackupS3Setting {
  endpoint: string;
  bucket: string;
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

const CONTEXT = 'backup-target:s3';
const vaultOf = (masterKey: Buffer) => createVault(masterKey, 'backup-target');

/** Records the S3 setting (credentials sealed); without credentials, the ones sealed before are kept. */
export async function saveS3Setting(db: ManagerDb, masterKey: Buffer, s: BackupS3Setting, now: number): Promise<void> {
  const existing = await db.k.selectFrom('backup_target').selectAll().where('id', '=', 1).executeTakeFirst();
  const sealed = s.credentials ? vaultOf(masterKey).encrypt(JSON.stringify(s.credentials), CONTEXT) : existing?.sealed_credentials;
  if (!sealed) throw new AppError('NOT_CONFIGURED', 'S3 backups need AUTOCLAW_BACKUP_S3_ACCESS_KEY_ID and AUTOCLAW_BACKUP_S3_SECRET_ACCESS_KEY once');
  const row: BackupTargetTable = { id: 1, kind: 's3', endpoint: s.endpoint, bucket: s.bucket, region: s.region, sealed_credentials: sealed, updated_at: now };
  await db.k
    .insertInto('backup_target')
    .values(row)
    .onConflict((oc) => oc.column('id').doUpdateSet({ endpoint: row.endpoint, bucket: row.bucket, region: row.region, sealed_credentials: row.sealed_credentials, updated_at: row.updated_at }))
    .execute();
}

/** The S3 setting with its credentials unsealed, or null (backups stay under DIR/backups). */
export async function loadS3Setting(db: ManagerDb, masterKey: Buffer): Promise<S3Settings | null> {
  const row = await db.k.selectFrom('backup_target').selectAll().where('id', '=', 1).executeTakeFirst();
  if (!row) return null;
  const credentials = JSON.parse(vaultOf(masterKey).decrypt(row.sealed_credentials, CONTEXT)) as S3Settings['credentials'];
  return { endpoint: row.endpoint, bucket: row.bucket, region: row.region, credentials };
}
