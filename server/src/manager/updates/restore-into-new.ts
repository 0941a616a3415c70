/**
 * Restore into a new instance: a backup of one instance becomes a second
 * instance of the same account, the source left running untouched.
 * A persisted step machine (restore_into_runs.step):
 *
 *   provision → restore → start → done      (or failed, with the reason)
 *
 * Before anything is made, the backup is read and every check passes (its
 * file hash, GCM tag, every file's hash — opened with the SOURCE instance's
 * key): a bad backup changes nothing. provision: the run is recorded, then
 * the new instance's row (state `provisioning`, a data key of its OWN) and
 * its storage through the driver; locally the backup's files are staged and
 * their secrets (vault values: the provider key, channel and skill secrets)
 * re-sealed from the source's key to the new one on that copy. restore:
 * `provisioning → restoring`, the staged files swapped into its data
 * directory — on Kubernetes a restore Job fills the new instance's volume
 * from the backup in S3 and re-seals there, under the new instance's key from
 * its own Secret. start: `restoring → starting → running` once its gateway
 * is ready (Kubernetes: its StatefulSet made, adopting the filled volume).
 * The source is never touched. A manager killed midway: recover() deletes a
 * new instance whose data was not yet whole (provision, restore) and
 * finishes one whose data was (start) — never a half instance left running.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '@autoclaw/shared';
import type { Instance } from '@autoclaw/shared';
import { migratePart } from '../db';
import type { Fence, ManagerDb, Migration } from '../db';
import type { Logger } from '../gateway-parts';
import type { InstanceOps, InstanceService } from '../instances';
import type { BackupService } from './backups';
import { rekeyGatewayDb } from './rekey';
import { stageFiles, swapInStaged } from './snapshot';
import type { Versions } from './versions';

export interface RestoreIntoRunsTable {
  id: string;
  source_id: string;
  backup_id: string;
  /** The new instance (recorded before its row exists). */
  instance_id: string;
  step: 'provision' | 'restore' | 'start' | 'done' | 'failed';
  reason: string | null;
  started_at: number;
  finished_at: number | null;
}

declare module '../db/types' {
  interface ManagerTables {
    restore_into_runs: RestoreIntoRunsTable;
  }
}

/** Its own part in schema_versions, so it migrates apart from the rest of the updates part. */
const V1: Migration = (w) => [
  `CREATE TABLE restore_into_runs (
     id           TEXT PRIMARY KEY,
     source_id    TEXT NOT NULL,
     backup_id    TEXT NOT NULL,
     instance_id  TEXT NOT NULL,
     step         TEXT NOT NULL,
     reason       TEXT,
     started_at   ${w.int} NOT NULL,
     finished_at  ${w.int}
   )`,
];

export const migrateRestoreInto = (db: ManagerDb): Promise<void> => migratePart(db, 'restore-into', [V1]);

export interface RestoreIntoNewDeps {
  db: ManagerDb;
  instances: InstanceService;
  backups: BackupService;
  versions: Versions;
  dataDirOf(instanceId: string): string;
  /** An instance's data key (the caller wipes it). */
  dataKeyOf(instanceId: string): Promise<Buffer>;
  now: () => number;
  logger: Logger;
  /** Test seam: called after each step is persisted (the kill -9 test stops the manager there). */
  afterStep?: (step: RestoreIntoRunsTable['step']) => Promise<void> | void;
}

const text = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function createRestoreIntoNew(deps: RestoreIntoNewDeps) {
  const { db, backups, instances } = deps;

  async function stepTo(run: RestoreIntoRunsTable, step: RestoreIntoRunsTable['step'], patch: Partial<RestoreIntoRunsTable> = {}): Promise<void> {
    Object.assign(run, patch, { step });
    await db.k.updateTable('restore_into_runs').set({ ...patch, step }).where('id', '=', run.id).execute();
    await deps.afterStep?.(step);
  }

  /** restoring → starting → running (the data is in place). */
  async function bringUp(ops: InstanceOps, run: RestoreIntoRunsTable): Promise<Instance> {
    const state = (await ops.get()).state;
    if (state === 'restoring') await ops.transition('starting', `restored backup ${run.backup_id} of ${run.source_id}; starting its gateway`, ['restoring']);
    await ops.startGateway();
    const running = await ops.transition('running', 'gateway is ready after the restore into a new instance', ['starting']);
    await stepTo(run, 'done', { finished_at: deps.now() });
    await ops.note('backup', `made from backup ${run.backup_id} of instance ${run.source_id}`);
    await ops.audit({ actor: 'system', action: 'instance.restore.into-new.done', target: run.instance_id, details: { from: run.source_id, backupId: run.backup_id } });
    return running;
  }

  /** The staged copy's secrets, from the source's key to the new instance's own. */
  async function resealStaged(sourceId: string, newId: string): Promise<void> {
    const staged = join(backups.stagingDir(newId), 'gateway.db');
    if (!existsSync(staged)) return;
    const from = await deps.dataKeyOf(sourceId);
    const to = await deps.dataKeyOf(newId);
    try {
      await rekeyGatewayDb(staged, from, to);
    } finally {
      from.fill(0);
      to.fill(0);
    }
  }

  /** Removes a new instance that did not become whole (and its files). */
  async function discard(run: RestoreIntoRunsTable, reason: string): Promise<void> {
    rmSync(backups.stagingDir(run.instance_id), { recursive: true, force: true });
    if (await instances.get(run.instance_id)) await instances.delete(run.instance_id, { actor: 'system' });
    await deps.versions.remove(run.instance_id);
    await stepTo(run, 'failed', { reason, finished_at: deps.now() });
  }

  return {
    /** Restores `backupId` of `sourceId` into a new instance of the same account; answers with it running. */
    async restore(sourceId: string, backupId: string, actor: string): Promise<Instance> {
      const source = await instances.get(sourceId);
      if (!source) throw new AppError('NOT_FOUND', `no instance ${sourceId}`);
      // Kubernetes: a restore Job fills the new volume from S3 (checked here first); local: the files are read here.
      const remote = backups.remoteOf(sourceId);
      // Read and checked in full under the source's key before anything is made: a bad backup throws here.
      const files = remote ? null : await backups.read(sourceId, backupId);
      if (remote) await backups.verify(sourceId, backupId);
      const newId = `inst-${randomBytes(6).toString('hex')}`;
      const run: RestoreIntoRunsTable = { id: `rsn-${deps.now().toString(36)}-${randomBytes(4).toString('hex')}`, source_id: sourceId, backup_id: backupId, instance_id: newId, step: 'provision', reason: null, started_at: deps.now(), finished_at: null };
      await db.k.insertInto('restore_into_runs').values(run).execute();
      try {
        // The new id's lock from its first row on: a leader's sweep never takes it for an interrupted provisioning.
        return await instances.exclusive(newId, async (ops) => {
          await instances.createAlongside(sourceId, newId, { actor });
          const release = await deps.versions.ensure(sourceId);
          await deps.versions.set(newId, { version: release.version, channel: release.channel, window_start: release.window_start, window_end: release.window_end, last_backup_at: null });
          await instances.note(sourceId, { kind: 'backup', message: `restoring backup ${backupId} into a new instance ${newId}` });
          await ops.audit({ actor, action: 'instance.restore.into-new', target: newId, details: { from: sourceId, backupId } });
          await deps.afterStep?.('provision');
          await ops.prepareStorage();
          if (files) {
            stageFiles(backups.stagingDir(newId), files);
            await resealStaged(sourceId, newId);
          }
          await ops.transition('restoring', `restoring backup ${backupId} of ${sourceId}`, ['provisioning']);
          await stepTo(run, 'restore');
          if (remote) {
            await ops.note('backup', `restoring backup ${backupId} of ${sourceId} onto the new volume (a restore job)`);
            await remote.restore(backupId, await backups.sha256Of(sourceId, backupId), newId, true);
          } else swapInStaged(deps.dataDirOf(newId), backups.stagingDir(newId));
          await stepTo(run, 'start');
          return bringUp(ops, run);
        });
      } catch (err) {
        if (AppError.is(err, 'CANCELLED')) throw err;
        // The user sees the new instance failed with the reason (and may delete it); the source is untouched.
        rmSync(backups.stagingDir(newId), { recursive: true, force: true });
        await stepTo(run, 'failed', { reason: text(err), finished_at: deps.now() }).catch(() => undefined);
        await instances.markFailed(newId, `restore into a new instance: ${text(err)}`).catch(() => undefined);
        throw err;
      }
    },

    /** After a manager restart (the leader, before instances are settled): no half-made new instance stays. */
    async recover(fence?: Fence): Promise<string[]> {
      const open = await db.k.selectFrom('restore_into_runs').selectAll().where('step', 'not in', ['done', 'failed']).execute();
      const settled: string[] = [];
      for (const run of open) {
        if (fence) await db.tx(fence);
        const made = await instances.get(run.instance_id);
        if (run.step !== 'start' || !made) {
          await discard(run, 'interrupted by a manager restart before its data was whole; the new instance was removed');
        } else {
          try {
            await instances.exclusive(run.instance_id, (ops) => bringUp(ops, run));
          } catch (err) {
            if (AppError.is(err, 'CANCELLED')) throw err;
            await stepTo(run, 'failed', { reason: text(err), finished_at: deps.now() });
            await instances.markFailed(run.instance_id, `restore into a new instance: ${text(err)}`).catch(() => undefined);
          }
        }
        settled.push(run.instance_id);
      }
      return settled;
    },
  };
}

export type RestoreIntoNew = ReturnType<typeof createRestoreIntoNew>;
