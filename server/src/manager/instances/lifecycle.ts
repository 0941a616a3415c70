/**
 * The lifecycle operations: provision, start, stop, restart, delete. Each
 * runs under the instance's lock and moves it through the state machine one
 * committed transition at a time, so a crash between two steps leaves a
 * state that recover() can finish.
 */
import { randomBytes } from 'node:crypto';
import { AppError } from '@autoclaw/shared';
import type { Instance, InstanceState } from '@autoclaw/shared';
import type { InstanceRuntime, InstanceSpec } from '../drivers/types';
import { wrapDataKey } from '../keys';
import type { Core } from './core';
import { errorText, isShutdown, runtimePatch } from './core';
import type { Fence, InstanceRow } from './repository';
import { toInstance } from './repository';

export interface OpOptions {
  /** Audit actor: `user:<id>`, `operator` or `system`. */
  actor?: string;
}

export interface RestartOptions {
  reason: string;
  /** `memory`: passed its limit (drained first); `restart`: crashed, unhealthy, or launched for another manager address. */
  kind: 'restart' | 'memory';
  /** Drain running turns before stopping (default: only for `memory`). */
  graceful?: boolean;
  drainTimeoutMs?: number;
  /** The supervisor's leader fence: every write of the restart is refused once this replica no longer leads. */
  fence?: Fence;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}$/;

export function normalizeOwner(owner: string): string {
  const email = owner.trim().toLowerCase();
  if (!EMAIL.test(email)) throw new AppError('BAD_REQUEST', 'the owner is an e-mail address');
  return email;
}

export interface LifecycleOptions {
  memoryLimitMb: number;
  /** Provisioning makes the storage and keys and leaves the instance `sleeping` (when the driver can; see InstanceDriver.prepare). */
  provisionAsleep?: boolean;
}

export function createLifecycle(core: Core, opts: LifecycleOptions) {
  const { repo, driver, lock, now } = core;

  /** Runs the driver's start (or provision) and records where the gateway runs and the origins it accepts. */
  async function launch(id: string, how: (spec: InstanceSpec) => Promise<InstanceRuntime>, fence?: Fence): Promise<{ runtime: InstanceRuntime; origins: string[] }> {
    const row = await repo.mustGet(id);
    let origins: string[] = [];
    const runtime = await core.withSpec(row, (spec) => {
      origins = spec.allowedOrigins;
      return how(spec);
    });
    await repo.update(id, { ...runtimePatch(runtime), origins }, null, fence);
    return { runtime, origins };
  }

  async function provisionSteps(id: string): Promise<Instance> {
    try {
      if (opts.provisionAsleep && driver.prepare) {
        const prepare = driver.prepare.bind(driver);
        await core.withSpec(await repo.mustGet(id), (spec) => prepare(spec));
        return toInstance(await repo.transition(id, 'sleeping', 'provisioned asleep: its gateway starts when a client first connects', {}, ['provisioning']));
      }
      const { runtime } = await launch(id, (spec) => driver.provision(spec));
      await repo.transition(id, 'starting', 'gateway process started', runtimePatch(runtime), ['provisioning']);
      return toInstance(await core.becomeRunning(id, runtime, 'gateway is ready'));
    } catch (err) {
      // Cut short by the manager closing: the next start resumes it (as after a crash).
      if (!isShutdown(err)) await core.fail(id, err, 'provisioning');
      throw err;
    }
  }

  /**
   * Starts the gateway and waits for it. A failed start by a person marks the
   * instance failed; a failed supervisor restart leaves it `starting` (with
   * the crash as an event) for the supervisor's next attempt or crash-loop verdict.
   */
  async function startSteps(id: string, reason: string, o: { restarted?: boolean; keepOnFailure?: boolean; fence?: Fence } = {}): Promise<Instance> {
    const before = await repo.mustGet(id);
    if (before.state !== 'starting') await repo.transition(id, 'starting', reason, { restarted: o.restarted ?? false }, undefined, o.fence);
    else if (o.restarted) await repo.update(id, { restarted: true }, null, o.fence);
    try {
      const { runtime } = await launch(id, (spec) => driver.start(spec), o.fence);
      return toInstance(await core.becomeRunning(id, runtime, 'gateway is ready', o.fence));
    } catch (err) {
      if (isShutdown(err)) throw err;
      if (!o.keepOnFailure) {
        await core.fail(id, err, 'start');
        throw err;
      }
      const status = await driver.status(id).catch(() => null);
      if (status?.alive) await driver.stop(id, { graceMs: 2_000 }).catch(() => undefined);
      if (await repo.get(id)) {
        await repo
          .update(id, { lastError: errorText(err) }, { kind: 'crash', message: `restart failed: ${errorText(err)}`, logLines: status?.lastLogLines ?? [] }, o.fence)
          .catch(() => undefined);
      }
      throw err;
    }
  }

  async function create(owner: string, op: OpOptions = {}): Promise<Instance> {
    const email = normalizeOwner(owner);
    const id = `inst-${randomBytes(6).toString('hex')}`;
    const dataKey = randomBytes(32);
    const wrappedKey = wrapDataKey(core.keys.masterKey, dataKey, id);
    dataKey.fill(0);
    const row = await repo.create({ id, owner: email, driver: driver.kind, wrappedKey, memoryLimitMb: opts.memoryLimitMb }, `provisioning for ${email}`);
    await core.audit({ actor: op.actor ?? 'system', action: 'instance.provision', target: id, details: { owner: email, driver: driver.kind } });
    return toInstance(row);
  }

  /**
   * Another instance of `source`'s owner (not primary), under the id given,
   * with a data key of its own (a compromise or deletion of one instance's
   * key never exposes the other): the restore into it re-seals the restored
   * secrets under that key. Left `provisioning`.
   */
  async function createAlongside(sourceId: string, id: string, op: OpOptions = {}): Promise<Instance> {
    const source = await repo.mustGet(sourceId);
    const dataKey = randomBytes(32);
    const wrappedKey = wrapDataKey(core.keys.masterKey, dataKey, id);
    dataKey.fill(0);
    const row = await repo.create({ id, owner: source.owner, driver: driver.kind, wrappedKey, memoryLimitMb: source.memory_limit_mb, secondary: true }, `provisioning for ${source.owner} (from ${sourceId})`);
    await core.audit({ actor: op.actor ?? 'system', action: 'instance.provision', target: id, details: { owner: source.owner, driver: driver.kind, from: sourceId } });
    return toInstance(row);
  }

  return {
    createAlongside,
    /** Creates the owner's instance (one per user) and brings it to `running` (or `sleeping`, provisioned asleep). */
    async provision(owner: string, op: OpOptions = {}): Promise<Instance> {
      const { id } = await create(owner, op);
      return lock.run(id, () => provisionSteps(id));
    },

    /** Only the row (state `provisioning`) and its audit entry; `resumeProvisioning` brings it up. */
    create,

    /** Resumes an interrupted provisioning (after a manager crash), or runs a created one. */
    resumeProvisioning: (id: string) =>
      lock.run(id, async () => {
        const row = await repo.mustGet(id);
        // Another replica finished it meanwhile.
        if (row.state !== 'provisioning') return toInstance(row);
        return provisionSteps(id);
      }),

    async start(id: string, op: OpOptions = {}): Promise<Instance> {
      return lock.run(id, async () => {
        const row = await repo.mustGet(id);
        if (row.state === 'running' || row.state === 'degraded') return toInstance(row);
        await core.audit({ actor: op.actor ?? 'system', action: row.state === 'sleeping' ? 'instance.wake' : 'instance.start', target: id });
        return startSteps(id, row.state === 'failed' ? 'retry after failure' : row.state === 'sleeping' ? 'woken: its owner opened the app' : 'start requested');
      });
    },

    async stop(id: string, op: OpOptions = {}): Promise<Instance> {
      return lock.run(id, async () => {
        const row = await repo.mustGet(id);
        if (row.state === 'stopped') return toInstance(row);
        await core.audit({ actor: op.actor ?? 'system', action: 'instance.stop', target: id });
        if (row.state !== 'stopping') await repo.transition(id, 'stopping', 'stop requested');
        try {
          await driver.stop(id);
        } catch (err) {
          await core.fail(id, err, 'stop');
          throw err;
        }
        core.link.forget(id);
        return toInstance(await repo.transition(id, 'stopped', 'gateway process ended', { pid: null }));
      });
    },

    /** The supervisor's restart (crash, unhealthy, memory limit, an outdated origin); counts as a restart. */
    async restart(id: string, r: RestartOptions): Promise<Instance> {
      return lock.run(id, async () => {
        const row = await repo.mustGet(id);
        if (!['running', 'degraded', 'starting'].includes(row.state)) {
          throw new AppError('CONFLICT', `instance ${id} is ${row.state}; only a live instance is restarted`);
        }
        // The first write carries the fence: a replica that lost the lead stops here, before touching the gateway.
        await repo.event(id, { kind: r.kind, message: r.reason }, r.fence);
        if ((r.graceful ?? r.kind === 'memory') && row.url !== null && (await driver.status(id)).alive) {
          let message: string;
          try {
            const drained = await core.link.call(
              { instanceId: id, url: row.url },
              (client) => client.admin.drain.mutate({ timeoutMs: r.drainTimeoutMs ?? 60_000 }),
              { timeoutMs: (r.drainTimeoutMs ?? 60_000) + 5_000 },
            );
            message = drained.drained ? 'running turns finished; restarting' : `restarting with ${drained.busySessions} turn(s) still running`;
          } catch (err) {
            message = `could not drain (${errorText(err)}); restarting anyway`;
          }
          await repo.event(id, { kind: r.kind, message }, r.fence);
        }
        await driver.stop(id, { graceMs: 5_000 });
        await core.audit({ actor: 'system', action: 'instance.restart', target: id, details: { reason: r.reason } });
        return startSteps(id, r.reason, { restarted: true, keepOnFailure: true, ...(r.fence ? { fence: r.fence } : {}) });
      });
    },

    async delete(id: string, op: OpOptions = {}): Promise<void> {
      await lock.run(id, async () => {
        const row = await repo.get(id);
        if (!row) throw new AppError('NOT_FOUND', `no instance ${id}`);
        await core.audit({ actor: op.actor ?? 'system', action: 'instance.delete', target: id, details: { owner: row.owner } });
        if (row.state !== 'deleting') await repo.transition(id, 'deleting', 'delete requested');
        await finishDelete(id);
      });
    },

    finishDelete: (id: string) =>
      lock.run(id, async () => {
        if (!(await repo.get(id))) return;
        await finishDelete(id);
      }),

    /**
     * Starts (or adopts) the gateway of an instance left `starting`/`running` by a previous manager —
     * if it is still in one of `expect` once the lock is held (another replica may have finished it).
     */
    resumeStart: (id: string, reason: string, expect: readonly InstanceState[], fence?: Fence) =>
      lock.run(id, async () => {
        const row = await repo.mustGet(id);
        if (!expect.includes(row.state)) return toInstance(row);
        return startSteps(id, reason, fence ? { fence } : {});
      }),

    /**
     * Puts an idle running instance to sleep: `sleeping` first (a manager killed
     * before the stop leaves a stray process that recovery stops), then the
     * gateway stops (local: the process exits; Kubernetes: scaled to 0).
     * `stillIdle` is asked under the lock, so a client that came meanwhile
     * keeps it awake. Null when it was not put to sleep.
     */
    sleep: (id: string, reason: string, o: { stillIdle: () => Promise<boolean>; fence?: Fence }) =>
      lock.run(id, async (): Promise<Instance | null> => {
        const row = await repo.get(id);
        if (!row || row.state !== 'running' || !(await o.stillIdle())) return null;
        const asleep = await repo.transition(id, 'sleeping', reason, { pid: null }, ['running'], o.fence);
        try {
          await driver.stop(id, { graceMs: 10_000 });
        } catch (err) {
          await core.fail(id, err, 'sleep');
          throw err;
        }
        await core.audit({ actor: 'system', action: 'instance.sleep', target: id, details: { reason } });
        return toInstance(asleep);
      }),

    /**
     * Wakes a sleeping instance (or finishes a wake a dead manager left
     * `starting`) and waits until it is ready; a failed wake leaves it
     * `failed` with the reason and throws. Running already: answered at once.
     */
    wake: (id: string, why: string) =>
      lock.run(id, async (): Promise<Instance> => {
        const row = await repo.mustGet(id);
        if (row.state === 'running' || row.state === 'degraded') return toInstance(row);
        if (row.state !== 'sleeping' && row.state !== 'starting') {
          throw new AppError('CONFLICT', `your assistant is ${row.state} and cannot be woken`, { details: { state: row.state } });
        }
        return wakeSteps(row, why);
      }),

    async setMemoryLimit(id: string, mb: number): Promise<Instance> {
      if (!Number.isInteger(mb) || mb < 16 || mb > 65_536) throw new AppError('BAD_REQUEST', 'a memory limit is 16–65536 MiB');
      return toInstance(await repo.setMemoryLimit(id, mb));
    },
  };

  /**
   * A wake starts the gateway first and writes its bookkeeping (the audit
   * entry, `starting`) while the gateway starts, so no client waits for
   * them; `running` with where it runs is written once it is ready. A
   * manager killed meanwhile leaves `sleeping` with a process (recovery
   * stops it: the next client wakes it again) or `starting` (recovery
   * finishes the start). A failed start leaves it `failed` with the reason.
   */
  async function wakeSteps(row: InstanceRow, why: string): Promise<Instance> {
    const id = row.id;
    const reason = `woken: ${why}`;
    let origins: string[] = [];
    const launched = core.withSpec(row, (spec) => {
      origins = spec.allowedOrigins;
      return driver.start(spec);
    });
    const recorded = (async () => {
      await core.audit({ actor: 'system', action: 'instance.wake', target: id, details: { why } });
      if (row.state !== 'starting') await repo.transition(id, 'starting', reason, { restarted: false }, ['sleeping']);
    })();
    const [start, record] = await Promise.allSettled([launched, recorded]);
    if (record.status === 'rejected') {
      // Not recorded: the instance stays as it was, without the process this wake started.
      if (start.status === 'fulfilled') await driver.stop(id, { graceMs: 2_000 }).catch(() => undefined);
      throw record.reason;
    }
    try {
      if (start.status === 'rejected') throw start.reason;
      return toInstance(await core.becomeRunning(id, start.value, 'gateway is ready', undefined, origins));
    } catch (err) {
      if (!isShutdown(err)) await core.fail(id, err, 'start');
      throw err;
    }
  }

  async function finishDelete(id: string): Promise<void> {
    try {
      await driver.destroy(id);
    } catch (err) {
      await repo.update(id, {}, { kind: 'crash', message: `delete failed (retried at the next manager start): ${errorText(err)}` });
      throw err;
    }
    core.link.forget(id);
    await repo.remove(id);
    core.logger.info('instance deleted', { instanceId: id, at: now() });
  }
}

export type Lifecycle = ReturnType<typeof createLifecycle>;
