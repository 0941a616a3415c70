/**
 * Restore as a persisted step machine (restore_runs.step):
 *
 *   stage → stop → swap → start → done
 *
 * stage: the backup is read and every check passes (or nothing changes)
 * and its files are written to a staging directory. stop: drained between
 * turns, stopped, state `restoring`. swap: the staged database and
 * workspace replace the live ones. start: the gateway starts and must be
 * ready. A manager killed midway finishes it at its next start (recover):
 * a complete staging is swapped in, an incomplete one discarded; either way
 * the instance ends running on whole data.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { AppError } from '@autoclaw/shared';
import type { Instance } from '@autoclaw/shared';
import type { Fence, ManagerDb } from '../db';
import type { Logger } from '../gateway-parts';
import type { InstanceOps, InstanceService } from '../instances';
import type { BackupService } from './backups';
import type { RestoreRunsTable } from './schema';
import { isStaged, stageFiles, swapInStaged } from './snapshot';

export interface RestorerDeps {
  db: ManagerDb;
  instances: InstanceService;
  backups: BackupService;
  dataDirOf(instanceId: string): string;
  now: () => number;
  logger: Logger;
  /** Test seam: called after each step is persisted (the kill -9 tests stop the manager there). */
  afterStep?: (step: RestoreRunsTable['step']) => Promise<void> | void;
}

const text = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function createRestorer(deps: RestorerDeps) {
  const { db, backups } = deps;

  async function stepTo(run: RestoreRunsTable, step: RestoreRunsTable['step'], patch: Partial<RestoreRunsTable> = {}): Promise<void> {
    Object.assign(run, patch, { step });
    await db.k.updateTable('restore_runs').set({ ...patch, step }).where('id', '=', run.id).execute();
    await deps.afterStep?.(step);
  }

  /** Brings a stopped/failed/restoring instance to `running` (starting its gateway). */
  async function bringUp(ops: InstanceOps, reason: string): Promise<Instance> {
    let state = (await ops.get()).state;
    if (state === 'restoring') state = (await ops.transition('stopped', 'restore finished', ['restoring'])).state;
    if (state === 'stopping') state = (await ops.transition('stopped', 'gateway stopped')).state;
    if (state !== 'starting') await ops.transition('starting', reason);
    await ops.startGateway();
    return ops.transition('running', 'gateway is ready after the restore', ['starting']);
  }

  /** Stops the gateway between turns; the instance ends `restoring`. */
  async function takeDown(ops: InstanceOps): Promise<void> {
    const instance = await ops.get();
    if (instance.state === 'running' || instance.state === 'degraded') {
      if (instance.url) await ops.call(instance.url, (c) => c.admin.drain.mutate({ timeoutMs: 30_000 }), { timeoutMs: 35_000 }).catch(() => undefined);
      await ops.transition('stopping', 'stopping for a restore');
    }
    await ops.stopGateway();
    let state = (await ops.get()).state;
    if (state === 'stopping') state = (await ops.transition('stopped', 'gateway stopped for the restore')).state;
    if (state !== 'restoring') await ops.transition('restoring', 'restoring a backup');
  }

  /** `staged`: restore() already read and checked this backup (and, local, staged it): it is read once. */
  async function drive(ops: InstanceOps, run: RestoreRunsTable, staged = false): Promise<Instance> {
    const id = run.instance_id;
    const staging = backups.stagingDir(id);
    const remote = backups.remoteOf(id);
    if (run.step === 'stage') {
      // Kubernetes: the restore Job reads and checks the backup on the volume's node (verified here first).
      if (!staged) {
        if (remote) await backups.verify(id, run.backup_id);
        else stageFiles(staging, await backups.read(id, run.backup_id));
      }
      await stepTo(run, 'stop');
    }
    if (run.step === 'stop') {
      await takeDown(ops);
      await stepTo(run, 'swap');
    }
    if (run.step === 'swap' && remote) {
      await ops.note('backup', `restoring backup ${run.backup_id} onto the volume (a restore job)`);
      await remote.restore(run.backup_id, await backups.sha256Of(id, run.backup_id));
      ops.forgetLink();
      await stepTo(run, 'start');
    } else if (run.step === 'swap') {
      if (!isStaged(staging)) {
        // Crashed after the swap finished but before the step was recorded: the data is already in place.
        deps.logger.info('restore: nothing staged; the swap had finished', { instanceId: id });
      } else swapInStaged(deps.dataDirOf(id), staging);
      ops.forgetLink();
      await stepTo(run, 'start');
    }
    const instance = await bringUp(ops, `start after restoring ${run.backup_id}`);
    await stepTo(run, 'done', { finished_at: deps.now() });
    await ops.note('backup', `restored backup ${run.backup_id}`);
    await ops.audit({ actor: 'system', action: 'instance.restore.done', target: id, details: { backupId: run.backup_id } });
    return instance;
  }

  return {
    /** Restores `backupId` into its instance (checked first: a bad backup changes nothing). */
    async restore(instanceId: string, backupId: string, actor: string): Promise<Instance> {
      return deps.instances.exclusive(instanceId, async (ops) => {
        const instance = await ops.get();
        if (instance.driver !== 'local' && !backups.remoteOf(instanceId)) throw new AppError('NOT_CONFIGURED', `restores of ${instance.driver} instances are not supported yet`);
        if (!['running', 'degraded', 'stopped', 'failed'].includes(instance.state)) throw new AppError('CONFLICT', `instance ${instanceId} is ${instance.state}; wait until it settles`);
        // Meanwhile its next start is warmed (local: a standby, so the restart skips Node's start-up) and the manager's link to the
        // gateway readied (registration, a first call: nothing changes), so the drain below is one short call.
        await ops.prewarm();
        const linked = instance.url ? ops.call(instance.url, (c) => c.admin.health.query()).catch(() => undefined) : undefined;
        // Read and checked (file hash, GCM tag, every file's hash) once — and, for a local instance, staged in the same go: a bad backup throws here and changes nothing.
        if (backups.remoteOf(instanceId)) await backups.verify(instanceId, backupId);
        else stageFiles(backups.stagingDir(instanceId), await backups.read(instanceId, backupId));
        await linked;
        const run: RestoreRunsTable = { id: `rst-${deps.now().toString(36)}-${randomBytes(4).toString('hex')}`, instance_id: instanceId, backup_id: backupId, step: 'stage', reason: null, started_at: deps.now(), finished_at: null };
        await db.k.insertInto('restore_runs').values(run).execute();
        await ops.audit({ actor, action: 'instance.restore', target: instanceId, details: { backupId } });
        try {
          await deps.afterStep?.('stage');
          return await drive(ops, run, true);
        } catch (err) {
          if (AppError.is(err, 'CANCELLED')) throw err;
          await stepTo(run, 'failed', { reason: text(err), finished_at: deps.now() });
          // Whatever happened, the instance runs again (on the staged data if it was swapped in, else as it was).
          rmSync(backups.stagingDir(instanceId), { recursive: true, force: true });
          const after = await ops.get();
          if (after.state !== 'running') await bringUp(ops, 'start after a failed restore').catch(() => undefined);
          throw err;
        }
      });
    },

    /** After a manager restart (the leader): every unfinished restore is finished (or undone), the instance running. */
    async recover(fence?: Fence): Promise<string[]> {
      const open = await db.k.selectFrom('restore_runs').selectAll().where('step', 'not in', ['done', 'failed']).execute();
      const settled: string[] = [];
      for (const run of open) {
        if (fence) await db.tx(fence);
        if (!(await deps.instances.get(run.instance_id))) {
          await stepTo(run, 'failed', { reason: 'the instance is gone', finished_at: deps.now() });
          continue;
        }
        await deps.instances.exclusive(run.instance_id, async (ops) => {
          if (run.step === 'stage' || (run.step === 'stop' && !isStaged(backups.stagingDir(run.instance_id)))) {
            // Nothing live was touched: start it as it was.
            rmSync(backups.stagingDir(run.instance_id), { recursive: true, force: true });
            await stepTo(run, 'failed', { reason: 'interrupted by a manager restart before the swap; nothing was changed', finished_at: deps.now() });
            const state = (await ops.get()).state;
            if (state !== 'running' && state !== 'degraded') {
              await ops.stopGateway();
              await bringUp(ops, 'start after an interrupted restore');
            }
            return;
          }
          await drive(ops, run);
        });
        settled.push(run.instance_id);
      }
      return settled;
    },
  };
}

export type Restorer = ReturnType<typeof createRestorer>;
