/** The updates part's tables: releases, each instance's release state, update runs and backups. */
import { migratePart } from '../db';
import type { ManagerDb, Migration } from '../db';
import type { BackupKind, ReleaseChannel, UpdateOutcome, UpdateStep } from '@autoclaw/shared';

export const UPDATES_PART = 'updates';

export interface ReleasesTable {
  version: string;
  channel: ReleaseChannel;
  artifact_sha256: string;
  image: string | null;
  min_schema_version: number;
  notes: string;
  signed_by: string;
  /** The whole signed manifest (JSON), re-verifiable. */
  manifest: string;
  added_at: number;
}

export interface InstanceReleasesTable {
  instance_id: string;
  version: string;
  previous_version: string | null;
  channel: ReleaseChannel;
  window_start: number | null;
  window_end: number | null;
  last_updated_at: number | null;
  last_backup_at: number | null;
}

export interface UpdateRunsTable {
  id: string;
  instance_id: string;
  kind: 'update' | 'rollback';
  from_version: string;
  to_version: string;
  step: UpdateStep;
  outcome: UpdateOutcome;
  reason: string | null;
  backup_id: string | null;
  /** A rollback to a version that cannot read today's data: the backup whose data it switches to. */
  restore_backup_id: string | null;
  started_at: number;
  finished_at: number | null;
}

export interface BackupsTable {
  id: string;
  instance_id: string;
  kind: BackupKind;
  created_at: number;
  bytes: number;
  /** SHA-256 (hex) of the backup file: checked before it is even opened. */
  sha256: string;
  /** Where the file is: `local` (DIR/backups/<instance>/<id>.acbk) or `s3`. */
  target: string;
}

/** A restore as a persisted step machine (resumed after a manager crash). */
export interface RestoreRunsTable {
  id: string;
  instance_id: string;
  backup_id: string;
  step: 'stage' | 'stop' | 'swap' | 'start' | 'done' | 'failed';
  reason: string | null;
  started_at: number;
  finished_at: number | null;
}

/** Where new backups go when not under DIR/backups (one row): S3 settings, the credentials sealed by the master key. */
export interface BackupTargetTable {
  id: number;
  kind: 's3';
  endpoint: string;
  bucket: string;
  region: string;
  sealed_credentials: string;
  updated_at: number;
}

declare module '../db/types' {
  interface ManagerTables {
    releases: ReleasesTable;
    instance_releases: InstanceReleasesTable;
    update_runs: UpdateRunsTable;
    backups: BackupsTable;
    restore_runs: RestoreRunsTable;
    backup_target: BackupTargetTable;
  }
}

const V1: Migration = (w) => [
  `CREATE TABLE releases (
     version             TEXT PRIMARY KEY,
     channel             TEXT NOT NULL CHECK (channel IN ('stable', 'beta')),
     artifact_sha256     TEXT NOT NULL,
     image               TEXT,
     min_schema_version  INTEGER NOT NULL,
     notes               TEXT NOT NULL,
     signed_by           TEXT NOT NULL,
     manifest            TEXT NOT NULL,
     added_at            ${w.int} NOT NULL
   )`,
  `CREATE TABLE instance_releases (
     instance_id       TEXT PRIMARY KEY,
     version           TEXT NOT NULL,
     previous_version  TEXT,
     channel           TEXT NOT NULL CHECK (channel IN ('stable', 'beta')),
     window_start      INTEGER,
     window_end        INTEGER,
     last_updated_at   ${w.int},
     last_backup_at    ${w.int}
   )`,
  `CREATE TABLE update_runs (
     id            TEXT PRIMARY KEY,
     instance_id   TEXT NOT NULL,
     kind          TEXT NOT NULL,
     from_version  TEXT NOT NULL,
     to_version    TEXT NOT NULL,
     step          TEXT NOT NULL,
     outcome       TEXT NOT NULL,
     reason        TEXT,
     backup_id     TEXT,
     restore_backup_id TEXT,
     started_at    ${w.int} NOT NULL,
     finished_at   ${w.int}
   )`,
  'CREATE INDEX update_runs_instance ON update_runs(instance_id, started_at)',
  `CREATE TABLE backups (
     id           TEXT PRIMARY KEY,
     instance_id  TEXT NOT NULL,
     kind         TEXT NOT NULL CHECK (kind IN ('scheduled', 'manual', 'pre-update')),
     created_at   ${w.int} NOT NULL,
     bytes        ${w.int} NOT NULL,
     sha256       TEXT NOT NULL,
     target       TEXT NOT NULL
   )`,
  'CREATE INDEX backups_instance ON backups(instance_id, created_at)',
  `CREATE TABLE restore_runs (
     id           TEXT PRIMARY KEY,
     instance_id  TEXT NOT NULL,
     backup_id    TEXT NOT NULL,
     step         TEXT NOT NULL,
     reason       TEXT,
     started_at   ${w.int} NOT NULL,
     finished_at  ${w.int}
   )`,
];

const V2_BACKUP_TARGET: Migration = (w) => [
  `CREATE TABLE backup_target (
     id                  INTEGER PRIMARY KEY CHECK (id = 1),
     kind                TEXT NOT NULL CHECK (kind IN ('s3')),
     endpoint            TEXT NOT NULL,
     bucket              TEXT NOT NULL,
     region              TEXT NOT NULL,
     sealed_credentials  TEXT NOT NULL,
     updated_at          ${w.int} NOT NULL
   )`,
];

export const UPDATES_MIGRATIONS: readonly Migration[] = [V1, V2_BACKUP_TARGET];

export async function migrateUpdates(db: ManagerDb): Promise<void> {
  await migratePart(db, UPDATES_PART, UPDATES_MIGRATIONS);
}
