/**
 * Backups of an instance: a snapshot of its data (see snapshot.ts), packed
 * and encrypted (archive.ts) under a per-backup key wrapped by the
 * instance's data key, stored in the target, recorded with its SHA-256;
 * listed, verified, read back (every check passes or nothing is returned),
 * and pruned by the retention rule.
 */
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { AppError } from '@autoclaw/shared';
import type { Backup, BackupKind } from '@autoclaw/shared';
import type { Fence, ManagerDb } from '../db';
import { openArchive, packArchive } from './archive';
import type { ArchiveFile } from './archive';
import { backupKey } from './backup-target';
import type { BackupTarget } from './backup-target';
import { pruneList } from './retention';
import type { Retention } from './retention';
import type { BackupsTable } from './schema';
import { takeSnapshot } from './snapshot';

export interface BackupServiceDeps {
  db: ManagerDb;
  /** Where new backups go. */
  target: BackupTarget;
  /** Where earlier backups are, by their recorded target kind (default: `target`). */
  targets?: Partial<Record<BackupTarget['kind'], BackupTarget>>;
  now: () => number;
  /** The instance's data directory (local driver). */
  dataDirOf(instanceId: string): string;
  /** Scratch space for the database copy the online backup writes. */
  scratchDir: string;
  /** The instance's data key (the envelope of its backup keys); the caller wipes it. */
  envelopeKeyOf(instanceId: string): Promise<Buffer>;
  retention: Retention;
  /** Kubernetes: a Job on the instance's volume writes the encrypted file to the target itself (null: the local snapshot). */
  remoteOf?: (instanceId: string) => RemoteVolume | null;
}

/** An instance's data reached through the driver's Jobs (see part.ts). */
export interface RemoteVolume {
  rollsInPlace: boolean;
  backup(backupId: string, createdAt: number): Promise<void>;
  /** `intoNew`: `into` is a new instance with its own key (the Job re-seals the restored secrets under it). */
  restore(backupId: string, sha256: string, into?: string, intoNew?: boolean): Promise<void>;
  clone(cloneId: string): Promise<'snapshot' | 'copy'>;
}

const toBackup = (row: BackupsTable): Backup => ({ id: row.id, instanceId: row.instance_id, createdAt: row.created_at, bytes: row.bytes, kind: row.kind });
/** How old an unrecorded backup file must be before prune takes it for a crashed create's leftover. */
const ORPHAN_AGE_MS = 60 * 60_000;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export function createBackupService(deps: BackupServiceDeps) {
  const { db, target } = deps;
  const targetOf = (r: BackupsTable): BackupTarget => deps.targets?.[r.target as BackupTarget['kind']] ?? target;

  async function row(instanceId: string, backupId: string): Promise<BackupsTable> {
    const found = await db.k.selectFrom('backups').selectAll().where('id', '=', backupId).where('instance_id', '=', instanceId).executeTakeFirst();
    if (!found) throw new AppError('NOT_FOUND', `instance ${instanceId} has no backup ${backupId}`);
    return found;
  }

  async function withKey<T>(instanceId: string, fn: (key: Buffer) => T): Promise<T> {
    const key = await deps.envelopeKeyOf(instanceId);
    try {
      return fn(key);
    } finally {
      key.fill(0);
    }
  }

  /** The file's bytes, checked against the recorded SHA-256, then decrypted and every file hash checked. */
  async function read(instanceId: string, backupId: string): Promise<ArchiveFile[]> {
    const r = await row(instanceId, backupId);
    const file = await targetOf(r).get(backupKey(instanceId, backupId));
    if (sha256(file) !== r.sha256) throw new AppError('BAD_REQUEST', `the backup failed its integrity check (the file's SHA-256 is not the recorded one); it is not restored`);
    return withKey(instanceId, (key) => openArchive(file, key, { id: backupId, instanceId }).files);
  }

  async function prune(instanceId: string): Promise<string[]> {
    const rows = await db.k.selectFrom('backups').selectAll().where('instance_id', '=', instanceId).execute();
    const gone = pruneList(rows.map(toBackup), deps.retention);
    for (const id of gone) {
      await targetOf(rows.find((r) => r.id === id) as BackupsTable).delete(backupKey(instanceId, id));
      await db.k.deleteFrom('backups').where('id', '=', id).execute();
    }
    // A file stored by a create that died before recording it: removed once it is surely not in flight.
    const known = new Set(rows.map((r) => backupKey(instanceId, r.id)));
    for (const key of await target.list(`${instanceId}/`)) {
      const made = parseInt(/\/bk-([0-9a-z]+)-/.exec(key)?.[1] ?? '', 36);
      if (!known.has(key) && Number.isFinite(made) && deps.now() - made > ORPHAN_AGE_MS) await target.delete(key);
    }
    return gone;
  }

  return {
    /** Takes a backup now (the gateway may be running: the online backup API reads a consistent state). */
    async create(instanceId: string, kind: BackupKind, fence?: Fence): Promise<Backup> {
      const createdAt = deps.now();
      const id = `bk-${createdAt.toString(36)}-${randomBytes(4).toString('hex')}`;
      const remote = deps.remoteOf?.(instanceId) ?? null;
      let file: Buffer;
      if (remote) {
        // The Job packs and encrypts on the volume's node; the manager reads the file back to record its hash.
        await remote.backup(id, createdAt);
        file = await target.get(backupKey(instanceId, id));
      } else {
        const files = await takeSnapshot(deps.dataDirOf(instanceId), deps.scratchDir);
        file = await withKey(instanceId, (key) => packArchive(files, { id, instanceId, createdAt }, key));
        await target.put(backupKey(instanceId, id), file);
      }
      const r: BackupsTable = { id, instance_id: instanceId, kind, created_at: createdAt, bytes: file.length, sha256: sha256(file), target: target.kind };
      try {
        await db.tx(async (t) => {
          if (fence) await fence(t);
          await t.insertInto('backups').values(r).execute();
          await t.updateTable('instance_releases').set({ last_backup_at: createdAt }).where('instance_id', '=', instanceId).execute();
        });
      } catch (err) {
        await target.delete(backupKey(instanceId, id)).catch(() => undefined);
        throw err;
      }
      await prune(instanceId);
      return toBackup(r);
    },
    async list(instanceId: string): Promise<Backup[]> {
      const rows = await db.k.selectFrom('backups').selectAll().where('instance_id', '=', instanceId).orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
      return rows.map(toBackup);
    },
    get: async (instanceId: string, backupId: string): Promise<Backup> => toBackup(await row(instanceId, backupId)),
    /** The recorded SHA-256 of the backup file (a restore Job checks it). */
    sha256Of: async (instanceId: string, backupId: string): Promise<string> => (await row(instanceId, backupId)).sha256,
    remoteOf: (instanceId: string): RemoteVolume | null => deps.remoteOf?.(instanceId) ?? null,
    /** Every check a restore makes, without restoring. */
    async verify(instanceId: string, backupId: string): Promise<{ ok: true; files: number; bytes: number }> {
      const files = await read(instanceId, backupId);
      return { ok: true, files: files.length, bytes: files.reduce((n, f) => n + f.data.length, 0) };
    },
    read,
    /** The encrypted file as stored (a download: only the instance's key opens it). */
    async download(instanceId: string, backupId: string): Promise<Buffer> {
      return targetOf(await row(instanceId, backupId)).get(backupKey(instanceId, backupId));
    },
    prune,
    /** Where a restore stages files before the swap. */
    stagingDir: (instanceId: string) => join(deps.scratchDir, `restore-${instanceId}`),
  };
}

export type BackupService = ReturnType<typeof createBackupService>;
