/**
 * The health-gated update as a persisted step machine (update_runs.step):
 *
 *   backup → trial → drain → switch → health → done
 *
 * backup: a pre-update backup. trial: the new build starts on a COPY of
 * that backup (migrations run there, never first on live data) under the id
 * `<id>-trial`; /healthz, /readyz and admin.selfCheck must pass. drain: the
 * live gateway finishes running turns (its /readyz answers 503 meanwhile, so
 * the door holds new clients). switch: stop, record the new version, start
 * it on the same port from a standby of the new build warmed during the
 * backup (one SQLite writer at a time; the door holds clients through it). health: /readyz and the process watched for a window, then a
 * self-check. Any failure rolls back: the previous version AND the
 * pre-update data when the live instance was touched. A manager killed at
 * any step rolls back at its next start (recover), so the instance always
 * ends running one whole version on whole data.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { AppError } from '@autoclaw/shared';
import type { UpdateRun, UpdateStep } from '@autoclaw/shared';
import type { Fence, ManagerDb } from '../db';
import type { Logger } from '../gateway-parts';
import type { InstanceOps, InstanceService } from '../instances';
import type { BackupService } from './backups';
import type { ReleaseCatalogue } from './releases';
import type { UpdateRunsTable } from './schema';
import { stageFiles, swapInStaged } from './snapshot';
import type { Versions } from './versions';

export interface UpdateTimings {
  /** How long health is watched after the switch (default 60 s). */
  healthWindowMs: number;
  healthPollMs: number;
  drainTimeoutMs: number;
  /** How long the trial gateway may take to be ready before the trial fails (default: the instance's own ready time-out). */
  trialReadyMs?: number;
}

export const DEFAULT_UPDATE_TIMINGS: UpdateTimings = { healthWindowMs: 60_000, healthPollMs: 250, drainTimeoutMs: 30_000 };

export interface UpdaterDeps {
  db: ManagerDb;
  instances: InstanceService;
  releases: ReleaseCatalogue;
  backups: BackupService;
  versions: Versions;
  dataDirOf(instanceId: string): string;
  scratchDir: string;
  now: () => number;
  logger: Logger;
  timings?: Partial<UpdateTimings>;
  /** Test seam: called after each step is persisted, inside the trial once its gateway passed (still running), and inside the switch once the old gateway stopped (the kill -9 tests stop the manager there). */
  afterStep?: (step: UpdateStep | 'trial:running' | 'switch:stopped', run: UpdateRun) => Promise<void> | void;
}

export const toRun = (r: UpdateRunsTable): UpdateRun => ({
  id: r.id,
  instanceId: r.instance_id,
  kind: r.kind,
  fromVersion: r.from_version,
  toVersion: r.to_version,
  step: r.step,
  outcome: r.outcome,
  reason: r.reason,
  backupId: r.backup_id,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (err: unknown) => (err instanceof Error ? err.message : String(err));
export const trialIdOf = (instanceId: string) => `${instanceId}-trial`;

export function createUpdater(deps: UpdaterDeps) {
  const { db, instances, versions, backups } = deps;
  const timings = { ...DEFAULT_UPDATE_TIMINGS, ...deps.timings };

  async function save(run: UpdateRunsTable, patch: Partial<UpdateRunsTable>): Promise<UpdateRunsTable> {
    Object.assign(run, patch);
    await db.k.updateTable('update_runs').set(patch).where('id', '=', run.id).execute();
    return run;
  }

  async function stepTo(run: UpdateRunsTable, step: UpdateStep, patch: Partial<UpdateRunsTable> = {}): Promise<void> {
    await save(run, { ...patch, step });
    await deps.afterStep?.(step, toRun(run));
  }

  async function readyz(url: string): Promise<boolean> {
    try {
      return (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) })).ok;
    } catch {
      return false;
    }
  }

  async function selfCheck(ops: InstanceOps, url: string, as?: string): Promise<number> {
    const check = await ops.call(url, (c) => c.admin.selfCheck.query(), as ? { as } : {});
    const failed = check.checks.filter((c) => !c.ok);
    if (!check.ok) throw new AppError('INTERNAL', `self-check failed: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}`);
    return check.schemaVersion;
  }

  /** Restores a backup's files into a data directory (the gateway there stopped); Kubernetes: a restore Job on the volume of `into`. */
  async function putBack(instanceId: string, backupId: string, dataDir: string, staging: string, into?: string): Promise<void> {
    const remote = backups.remoteOf(instanceId);
    if (remote) return remote.restore(backupId, await backups.sha256Of(instanceId, backupId), into);
    const files = await backups.read(instanceId, backupId);
    stageFiles(staging, files);
    swapInStaged(dataDir, staging);
  }

  async function trial(ops: InstanceOps, run: UpdateRunsTable, dataOf: string | null): Promise<void> {
    const trialId = trialIdOf(run.instance_id);
    await ops.destroyTrial(trialId);
    try {
      const remote = backups.remoteOf(run.instance_id);
      // Kubernetes: the trial's volume is a clone of the live one (a VolumeSnapshot, else a copy Job).
      if (dataOf && remote && dataOf === run.backup_id) await ops.note('update', `trial volume: cloned by ${await remote.clone(trialId) === 'snapshot' ? 'a volume snapshot' : 'a copy job'}`);
      else if (dataOf) await putBack(run.instance_id, dataOf, deps.dataDirOf(trialId), join(deps.scratchDir, `trial-${run.instance_id}`), trialId);
      let runtime: { url: string };
      try {
        runtime = await ops.startGateway({ as: trialId, version: run.to_version, ...(timings.trialReadyMs ? { readyTimeoutMs: timings.trialReadyMs } : {}) });
      } catch (err) {
        const lines = (await ops.status(trialId).catch(() => null))?.lastLogLines ?? [];
        throw new AppError('INTERNAL', `the trial start of ${run.to_version} failed: ${text(err)}${lines.length ? ` (${lines.at(-1)})` : ''}`);
      }
      const health = (await (await fetch(`${runtime.url}/healthz`, { signal: AbortSignal.timeout(2_000) })).json()) as { instanceId?: unknown };
      if (health.instanceId !== trialId) throw new AppError('INTERNAL', 'the trial gateway answered /healthz for another instance');
      if (!(await readyz(runtime.url))) throw new AppError('INTERNAL', 'the trial gateway is not ready');
      await selfCheck(ops, runtime.url, trialId);
      await deps.afterStep?.('trial:running', toRun(run));
    } finally {
      await ops.destroyTrial(trialId).catch(() => undefined);
      ops.forgetLink(trialId);
    }
  }

  async function watchHealth(ops: InstanceOps, url: string): Promise<void> {
    const until = performance.now() + timings.healthWindowMs;
    let misses = 0;
    while (performance.now() < until) {
      const status = await ops.status();
      if (!status.alive) throw new AppError('INTERNAL', `the gateway exited after the switch${status.lastLogLines?.length ? `: ${status.lastLogLines.at(-1)}` : ''}`);
      misses = (await readyz(url)) ? 0 : misses + 1;
      if (misses >= 3) throw new AppError('INTERNAL', 'the gateway stopped answering /readyz after the switch');
      await sleep(timings.healthPollMs);
    }
    await selfCheck(ops, url);
  }

  /** Runs the steps from where `run` is; any failure rolls back. */
  async function drive(ops: InstanceOps, run: UpdateRunsTable): Promise<UpdateRunsTable> {
    const id = run.instance_id;
    try {
      if (run.step === 'backup') {
        // Two starts of the new build warmed while the backup runs (local: standbys): the trial's and the switch's, so neither waits for Node's start-up.
        await ops.prewarm({ version: run.to_version, count: 2 });
        await ops.note('update', `backup: taking a pre-update backup before ${run.kind === 'update' ? 'updating' : 'rolling back'} to ${run.to_version}`);
        const backup = await backups.create(id, 'pre-update');
        await stepTo(run, 'trial', { backup_id: backup.id });
      }
      if (run.step === 'trial') {
        await ops.note('update', `trial start: ${run.to_version} on a copy of the data`);
        try {
          await trial(ops, run, run.backup_id);
        } catch (err) {
          // Migrations are forward-only: an older build may not read today's data; then it gets the data from before the update.
          const earlier = run.kind === 'rollback' ? await backupBefore(run) : null;
          if (!earlier) throw err;
          await ops.note('update', `${run.to_version} cannot run on today's data (${text(err)}); trying it on the data from before the update to ${run.from_version}`);
          await trial(ops, run, earlier);
          await save(run, { restore_backup_id: earlier });
        }
        await stepTo(run, 'drain');
      }
      if (run.step === 'drain') {
        await ops.note('update', 'switch: finishing running turns');
        const url = (await ops.get()).url;
        if (url) await ops.call(url, (c) => c.admin.drain.mutate({ timeoutMs: timings.drainTimeoutMs }), { timeoutMs: timings.drainTimeoutMs + 5_000 }).catch(() => undefined);
        await stepTo(run, 'switch');
      }
      if (run.step === 'switch') {
        // Kubernetes changes the image in place (a rolling update); the local driver stops and starts.
        const rolls = Boolean(backups.remoteOf(id)?.rollsInPlace) && !run.restore_backup_id;
        await ops.note('update', rolls ? `switch: rolling image change from ${run.from_version} to ${run.to_version}` : `switch: stopping ${run.from_version}, starting ${run.to_version}`);
        if (!rolls) {
          // One writer at a time: the old gateway (drained) is gone before the new one opens the live data.
          await ops.stopGateway();
          await deps.afterStep?.('switch:stopped', toRun(run));
        }
        if (run.restore_backup_id) await putBack(id, run.restore_backup_id, deps.dataDirOf(id), join(deps.scratchDir, `switch-${id}`));
        await db.tx(async (t) => {
          await versions.set(id, { version: run.to_version }, t);
          await t.updateTable('update_runs').set({ step: 'health' }).where('id', '=', run.id).execute();
        });
        run.step = 'health';
        const runtime = await ops.startGateway();
        await deps.afterStep?.('health', toRun(run));
        await ops.note('update', `health: watching ${run.to_version} for ${Math.round(timings.healthWindowMs / 1000)} s`);
        await watchHealth(ops, runtime.url);
      } else if (run.step === 'health') {
        const url = (await ops.get()).url;
        if (!url) throw new AppError('INTERNAL', 'no gateway address after the switch');
        await watchHealth(ops, url);
      }
      await db.tx(async (t) => {
        await versions.set(id, { previous_version: run.from_version, last_updated_at: deps.now() }, t);
        await t.updateTable('update_runs').set({ step: 'done', outcome: 'succeeded', finished_at: deps.now() }).where('id', '=', run.id).execute();
      });
      Object.assign(run, { step: 'done', outcome: 'succeeded', finished_at: deps.now() });
      await ops.transition('running', `${run.kind === 'update' ? 'updated' : 'rolled back'} to ${run.to_version}; health checks pass`, ['updating']);
      await ops.audit({ actor: 'system', action: `instance.${run.kind}.done`, target: id, details: { from: run.from_version, to: run.to_version } });
      return run;
    } catch (err) {
      if (AppError.is(err, 'CANCELLED')) throw err;
      return rollback(ops, run, `${run.step} failed: ${text(err)}`);
    }
  }

  /** Back to `from_version` on the pre-update data (when the live instance was touched), running. */
  async function rollback(ops: InstanceOps, run: UpdateRunsTable, reason: string): Promise<UpdateRunsTable> {
    const id = run.instance_id;
    deps.logger.warn('update rolled back', { instanceId: id, reason });
    try {
      await ops.note('update', `rolling back to ${run.from_version}: ${reason}`);
      await ops.destroyTrial(trialIdOf(id)).catch(() => undefined);
      const touched = run.step === 'switch' || run.step === 'health';
      if (touched || run.step === 'drain') await ops.stopGateway();
      // The version first: a Kubernetes restore Job runs the image of the version rolled back to.
      await versions.set(id, { version: run.from_version });
      if (touched && run.backup_id) await putBack(id, run.backup_id, deps.dataDirOf(id), join(deps.scratchDir, `rollback-${id}`));
      const live = await ops.status();
      const url = live.alive ? (await ops.get()).url : (await ops.startGateway()).url;
      await save(run, { outcome: 'rolled-back', reason, finished_at: deps.now() });
      const state = (await ops.get()).state;
      if (state === 'updating') await ops.transition('running', `running (rolled back) on ${run.from_version}: ${reason}`, ['updating']);
      await ops.audit({ actor: 'system', action: `instance.${run.kind}.rolled-back`, target: id, details: { from: run.from_version, to: run.to_version, reason } });
      if (url) {
        const body = `AutoClaw tried to move your assistant to ${run.to_version} and went back to ${run.from_version}, with your data as it was before: ${reason}`;
        await ops
          .call(url, (c) => c.admin.notify.mutate({ kind: 'update', level: 'warning', title: 'Update rolled back', body: body.slice(0, 4_000), key: `update:${run.id}` }))
          .catch((err: unknown) => deps.logger.warn('could not tell the user about the rollback', { instanceId: id, err: text(err) }));
      }
      return run;
    } catch (err) {
      if (AppError.is(err, 'CANCELLED')) throw err;
      await save(run, { outcome: 'failed', reason: `${reason}; the rollback failed too: ${text(err)}`, finished_at: deps.now() });
      if ((await ops.get()).state === 'updating') await ops.transition('failed', `update failed and could not roll back: ${text(err)}`, ['updating']);
      return run;
    }
  }

  /** The pre-update backup of the update that brought the instance from `to_version` to `from_version`. */
  async function backupBefore(run: UpdateRunsTable): Promise<string | null> {
    const last = await db.k
      .selectFrom('update_runs')
      .select('backup_id')
      .where('instance_id', '=', run.instance_id)
      .where('outcome', '=', 'succeeded')
      .where('from_version', '=', run.to_version)
      .where('to_version', '=', run.from_version)
      .orderBy('started_at', 'desc')
      .executeTakeFirst();
    return last?.backup_id ?? null;
  }

  async function runningRun(instanceId: string): Promise<UpdateRunsTable | null> {
    return (await db.k.selectFrom('update_runs').selectAll().where('instance_id', '=', instanceId).where('outcome', '=', 'running').executeTakeFirst()) ?? null;
  }

  return {
    /**
     * Starts an update (`version` or the newest of the instance's channel) or a
     * rollback to the previous version. `started` resolves once the run is
     * recorded and the instance is `updating`; `finished` once it ended.
     */
    begin(instanceId: string, o: { kind: 'update' | 'rollback'; version?: string; actor: string }): { started: Promise<UpdateRun>; finished: Promise<UpdateRun> } {
      let onStarted: (run: UpdateRun) => void = () => {};
      const started = new Promise<UpdateRun>((resolve) => {
        onStarted = resolve;
      });
      const finished = instances.exclusive(instanceId, async (ops) => {
        const instance = await ops.get();
        if (instance.driver !== 'local' && !backups.remoteOf(instanceId)) throw new AppError('NOT_CONFIGURED', `updates of ${instance.driver} instances are not supported yet`);
        if (instance.state !== 'running' || instance.url === null) throw new AppError('CONFLICT', `instance ${instanceId} is ${instance.state}; only a running instance is updated`);
        if (await runningRun(instanceId)) throw new AppError('CONFLICT', `an update of ${instanceId} is already running`);
        const state = await versions.ensure(instanceId);
        let to: string;
        if (o.kind === 'update') {
          const release = o.version ? await deps.releases.get(o.version) : await deps.releases.newest(state.channel);
          if (!release) throw new AppError('NOT_FOUND', o.version ? `no release ${o.version} (add it with "autoclaw releases add")` : `no release on the ${state.channel} channel`);
          if (release.version === state.version) throw new AppError('CONFLICT', `instance ${instanceId} already runs ${release.version}`);
          if (!deps.releases.installed(release.version)) throw new AppError('NOT_FOUND', `the build of ${release.version} is not unpacked on this manager`);
          const schema = await selfCheck(ops, instance.url).catch((err: unknown) => {
            throw new AppError('CONFLICT', `the running instance fails its self-check, so it is not updated: ${text(err)}`);
          });
          if (schema < release.minSchemaVersion) throw new AppError('CONFLICT', `${release.version} needs data at schema ${release.minSchemaVersion} or newer; this instance is at ${schema}`);
          to = release.version;
        } else {
          if (state.previous_version === null) throw new AppError('CONFLICT', `instance ${instanceId} has no previous version to roll back to`);
          to = state.previous_version;
        }
        const run: UpdateRunsTable = {
          id: `upd-${deps.now().toString(36)}-${randomBytes(4).toString('hex')}`,
          instance_id: instanceId,
          kind: o.kind,
          from_version: state.version,
          to_version: to,
          step: 'backup',
          outcome: 'running',
          reason: null,
          backup_id: null,
          restore_backup_id: null,
          started_at: deps.now(),
          finished_at: null,
        };
        await db.k.insertInto('update_runs').values(run).execute();
        await ops.transition('updating', `${o.kind === 'update' ? 'update' : 'rollback'} from ${state.version} to ${to}`, ['running']);
        await ops.audit({ actor: o.actor, action: `instance.${o.kind}`, target: instanceId, details: { from: state.version, to } });
        onStarted(toRun(run));
        await deps.afterStep?.('backup', toRun(run));
        return toRun(await drive(ops, run));
      });
      return { started: Promise.race([started, finished]), finished };
    },

    /** After a manager restart (the leader): every run left unfinished is rolled back. */
    async recover(fence?: Fence): Promise<string[]> {
      const open = await db.k.selectFrom('update_runs').selectAll().where('outcome', '=', 'running').execute();
      const settled: string[] = [];
      for (const run of open) {
        if (fence) await db.tx(fence);
        const exists = await instances.get(run.instance_id);
        if (!exists) {
          await save(run, { outcome: 'failed', reason: 'the instance is gone', finished_at: deps.now() });
          continue;
        }
        await instances.exclusive(run.instance_id, (ops) => rollback(ops, run, `interrupted at ${run.step} by a manager restart`));
        settled.push(run.instance_id);
      }
      return settled;
    },

    async history(instanceId: string, limit = 50): Promise<UpdateRun[]> {
      const rows = await db.k.selectFrom('update_runs').selectAll().where('instance_id', '=', instanceId).orderBy('started_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return rows.map(toRun);
    },
  };
}

export type Updater = ReturnType<typeof createUpdater>;
