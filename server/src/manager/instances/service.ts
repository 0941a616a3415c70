/**
 * The instance service: an account's instances (one primary, see
 * repository.setPrimary), their lifecycle through the
 * driver and the persisted state machine, its events, pairing tickets and
 * devices, and recovery after a manager restart. Built from plain parts
 * (repository, lifecycle, device operations, recovery) over one database.
 */
import { AppError } from '@autoclaw/shared';
import type { GatewayActivity, Instance, InstanceEvent } from '@autoclaw/shared';
import { isStaleLease } from '../cluster';
import { silentLogger } from '../gateway-parts';
import { makeCore, runtimePatch, waitReady } from './core';
import type { InstanceServiceDeps } from './core';
import { createDeviceOps } from './device-ops';
import { createEventFeed } from './event-feed';
import { createGatewayLink } from './gateway-link';
import { createKeyedLock } from './keyed-lock';
import { createLifecycle, normalizeOwner } from './lifecycle';
import type { OpOptions, RestartOptions } from './lifecycle';
import { recoverInstances } from './recovery';
import type { RecoveryReport } from './recovery';
import { createInstanceRepository, launchedOrigins, toInstance } from './repository';
import type { Fence, NewEvent } from './repository';
import { migrateInstances } from './schema';
import { TRANSIENT_STATES } from './state-machine';
import type { InstanceSpec, VolumeOps } from '../drivers/types';

export type { InstanceServiceDeps, InstanceKeys } from './core';
export type { OpOptions, RestartOptions } from './lifecycle';
export type { RecoveryReport } from './recovery';
export type InstanceOps = ReturnType<typeof opsOf>;
export type { Fence } from './repository';

/** A live instance as the supervisor sees it: plus the origins its gateway lacks (it was launched for another manager address). */
export type SupervisedInstance = Instance & { missingOrigins: string[] };

export async function createInstanceService(deps: InstanceServiceDeps & { gatewayCallTimeoutMs?: number }) {
  await migrateInstances(deps.db);
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? silentLogger;
  let feed: ReturnType<typeof createEventFeed> | null = null;
  const repo = createInstanceRepository(deps.db, now, (event) => feed?.publish(event), deps.removeWith);
  feed = createEventFeed({ read: (id, after) => repo.eventsAfter(id, after), exists: async (id) => (await repo.get(id)) !== null });
  const lock = createKeyedLock(deps.locks);
  const link = createGatewayLink({ keys: { managerPublicKey: deps.keys.publicKey, sign: deps.keys.sign }, now, ...(deps.gatewayCallTimeoutMs ? { timeoutMs: deps.gatewayCallTimeoutMs } : {}) });
  const core = makeCore(deps, { repo, link, lock, logger });
  const lifecycle = createLifecycle(core, { memoryLimitMb: deps.memoryLimitMb ?? 512, ...(deps.provisionAsleep ? { provisionAsleep: true } : {}) });
  const wakes = new Map<string, Promise<Instance>>();
  /** One wake per instance at a time: every client that comes meanwhile waits for the same one. */
  function wake(id: string, why: string): Promise<Instance> {
    let p = wakes.get(id);
    if (!p) {
      p = lifecycle.wake(id, why).finally(() => wakes.delete(id));
      wakes.set(id, p);
    }
    return p;
  }
  const devices = createDeviceOps(core, deps.db, (id) => wake(id, 'the manager acts on it (pairing, devices, usage)'));
  const background = new Set<Promise<unknown>>();
  let closed = false;

  /** Runs an operation after the call returned (the UI follows it through events). */
  function inBackground(what: string, id: string | null, op: () => Promise<unknown>): void {
    if (closed) throw new AppError('CONFLICT', 'the manager is shutting down');
    const p = op()
      .catch((err: unknown) => {
        if (AppError.is(err, 'CANCELLED')) logger.info(`${what} interrupted by the manager stopping; it resumes at the next start`, { instanceId: id });
        else logger.warn(`${what} failed`, { instanceId: id, err: err instanceof Error ? err.message : String(err) });
      })
      .finally(() => background.delete(p));
    background.add(p);
  }

  const get = async (id: string): Promise<Instance | null> => {
    const row = await repo.get(id);
    return row ? toInstance(row) : null;
  };
  const mustGet = async (id: string): Promise<Instance> => toInstance(await repo.mustGet(id));
  const currentOrigins = (): string[] => (typeof deps.allowedOrigins === 'function' ? deps.allowedOrigins() : (deps.allowedOrigins ?? []));

  return {
    driverKind: deps.driver.kind,
    /** Creates the owner's instance and waits until it runs (or failed). */
    provision: (owner: string, op?: OpOptions) => lifecycle.provision(owner, op),
    /** Creates the owner's instance when there is none; answers at once (provisioning continues). */
    async ensureFor(owner: string, op?: OpOptions): Promise<Instance> {
      const email = normalizeOwner(owner);
      const existing = await repo.byOwner(email);
      if (existing) return toInstance(existing);
      let created: Instance;
      try {
        created = await lifecycle.create(email, op);
      } catch (err) {
        // Made a moment ago by another request (or replica): that one is the user's instance.
        const now = AppError.is(err, 'CONFLICT') ? await repo.byOwner(email) : null;
        if (now) return toInstance(now);
        throw err;
      }
      inBackground('provisioning', created.id, () => lifecycle.resumeProvisioning(created.id));
      return created;
    },
    /** Another instance of the source's owner (not primary, a data key of its own), left `provisioning` for the caller to fill (see restore-into-new). */
    createAlongside: (sourceId: string, id: string, op?: OpOptions) => lifecycle.createAlongside(sourceId, id, op),
    /** Every instance of the owner, the primary first. */
    async ownedBy(owner: string): Promise<Instance[]> {
      return (await repo.ownedBy(owner.trim().toLowerCase())).map(toInstance);
    },
    /** The account uses this instance from now on (the door's default, instances.mine). */
    async setPrimary(id: string, op: OpOptions = {}): Promise<Instance> {
      const row = await repo.setPrimary(id);
      await core.audit({ actor: op.actor ?? 'system', action: 'instance.primary', target: id, details: { owner: row.owner } });
      return toInstance(row);
    },
    start: (id: string, op?: OpOptions) => lifecycle.start(id, op),
    stop: (id: string, op?: OpOptions) => lifecycle.stop(id, op),
    delete: (id: string, op?: OpOptions) => lifecycle.delete(id, op),
    /** Starts/stops/deletes after answering with the instance as it is now. */
    async startLater(id: string, op?: OpOptions): Promise<Instance> {
      const view = await mustGet(id);
      inBackground('start', id, () => lifecycle.start(id, op));
      return view;
    },
    async stopLater(id: string, op?: OpOptions): Promise<Instance> {
      const view = await mustGet(id);
      inBackground('stop', id, () => lifecycle.stop(id, op));
      return view;
    },
    async deleteLater(id: string, op?: OpOptions): Promise<Instance> {
      const view = await mustGet(id);
      inBackground('delete', id, () => lifecycle.delete(id, op));
      return view;
    },
    restart: (id: string, r: RestartOptions) => lifecycle.restart(id, r),
    sleep: (id: string, reason: string, o: { stillIdle: () => Promise<boolean>; fence?: Fence }) => lifecycle.sleep(id, reason, o),
    wake,
    /** What keeps its gateway awake (admin.activity, as the manager device). */
    async activity(id: string): Promise<GatewayActivity> {
      const row = await repo.mustGet(id);
      if (row.url === null) throw new AppError('CONFLICT', `instance ${id} has no address`);
      return link.call({ instanceId: id, url: row.url }, (client) => client.admin.activity.query());
    },
    /** Records the channels that keep it awake (shown in the app). */
    async setKeepAwake(id: string, channels: string[], fence?: Fence): Promise<void> {
      await repo.update(id, { keepAwake: channels }, null, fence);
    },
    setMemoryLimit: (id: string, mb: number) => lifecycle.setMemoryLimit(id, mb),
    /** Kubernetes: the driver's Jobs on the instance's volume, with its spec; null where the manager reads the files itself (local). */
    volumesOf(id: string): InstanceVolumes | null {
      const v = deps.driver.volumes;
      if (!v) return null;
      const withSpec = async <T>(fn: (spec: InstanceSpec) => Promise<T>): Promise<T> => core.withSpec(await repo.mustGet(id), fn);
      return {
        rollsInPlace: v.rollsInPlace,
        backup: (o) => withSpec((spec) => v.backup(spec, o)),
        restore: ({ intoNew, ...o }) =>
          withSpec(async (spec) => (intoNew && o.into ? core.withSpec(await repo.mustGet(o.into), (newInstance) => v.restore(spec, { ...o, newInstance })) : v.restore(spec, o))),
        clone: (cloneId) => withSpec((spec) => v.clone(spec, cloneId)),
      };
    },

    get,
    mustGet,
    async byOwner(owner: string): Promise<Instance | null> {
      const row = await repo.byOwner(owner.trim().toLowerCase());
      return row ? toInstance(row) : null;
    },
    list: async (): Promise<Instance[]> => (await repo.list()).map(toInstance),
    /** Running and degraded instances, with the origins their gateways lack. */
    async listLive(): Promise<SupervisedInstance[]> {
      const required = currentOrigins();
      return (await repo.list())
        .filter((row) => row.state === 'running' || row.state === 'degraded')
        .map((row) => {
          const launched = launchedOrigins(row);
          return { ...toInstance(row), missingOrigins: launched === null ? required : required.filter((o) => !launched.includes(o)) };
        });
    },
    /** True while an operation on the instance runs here or in another replica (the supervisor keeps off). */
    isBusy: (id: string): Promise<boolean> => lock.isBusyAnywhere(id),

    events: (id: string, afterId = 0, limit = 500): Promise<InstanceEvent[]> => repo.eventsAfter(id, afterId, limit),
    lastEvents: (id: string, limit = 100): Promise<InstanceEvent[]> => repo.lastEvents(id, limit),
    watch: (id: string, afterId: number, signal: AbortSignal) => (feed as NonNullable<typeof feed>).watch(id, afterId, signal),
    /** Records a supervisor observation (health, crash) as an event. */
    note: (id: string, e: NewEvent, fence?: Fence): Promise<InstanceEvent> => repo.event(id, e, fence),
    /** running → degraded, or degraded → running, with the reason (null when not in `from` or busy). */
    async markHealth(id: string, to: 'running' | 'degraded', reason: string, fence?: Fence): Promise<Instance | null> {
      if (await lock.isBusyAnywhere(id)) return null;
      const row = await repo.get(id);
      const from = to === 'degraded' ? 'running' : 'degraded';
      if (!row || row.state !== from) return null;
      try {
        return toInstance(await repo.transition(id, to, reason, {}, [from], fence));
      } catch (err) {
        // Moved meanwhile (by another replica or operation): nothing to mark.
        if (AppError.is(err, 'CONFLICT') && !isStaleLease(err)) return null;
        throw err;
      }
    },
    /** Crash loop: failed, with the last log lines as the error. */
    async markFailed(id: string, reason: string): Promise<void> {
      await lock.run(id, () => core.fail(id, new Error(reason), 'supervision'));
    },

    issueTicket: devices.issueTicket,
    listDevices: devices.listDevices,
    revokeDevice: devices.revokeDevice,
    isPairedDevice: devices.isPairedDevice,
    drain: devices.drain,
    health: devices.health,
    usagePage: devices.usagePage,
    setPlanCaps: devices.setPlanCaps,

    /** For updates and restores: `fn` holds the instance's lock and gets the low-level steps. */
    exclusive: <T>(id: string, fn: (ops: InstanceOps) => Promise<T>): Promise<T> => lock.run(id, () => fn(opsOf(core, id))),

    /** Settles every instance (at start, or when this replica becomes the leader; `fence` is its lease). */
    recover: (fence?: Fence): Promise<RecoveryReport> => recoverInstances(core, lifecycle, fence),
    /** The leader's sweep: finishes operations whose replica died mid-way (a transient state no one holds the lock of). */
    sweep: (fence?: Fence): Promise<RecoveryReport> => recoverInstances(core, lifecycle, fence, TRANSIENT_STATES),

    /** Waits for background operations; gateways keep running (they outlive the manager). */
    async close(): Promise<void> {
      closed = true;
      core.shutdown.abort();
      feed?.close();
      while (background.size > 0) await Promise.allSettled([...background]);
    },
  };
}

export type InstanceService = Awaited<ReturnType<typeof createInstanceService>>;

/** An instance's volume operations (see VolumeOps), bound to it. */
export interface InstanceVolumes {
  readonly rollsInPlace: boolean;
  backup(o: Parameters<VolumeOps['backup']>[1]): Promise<void>;
  /** `intoNew`: `into` is a new instance (its own data key: the restored secrets are re-sealed under it). */
  restore(o: Omit<Parameters<VolumeOps['restore']>[1], 'newInstance'> & { intoNew?: boolean }): Promise<void>;
  clone(cloneId: string): Promise<'snapshot' | 'copy'>;
}

/**
 * The steps an update or restore is made of, on one instance whose lock is
 * held: state moves, events, starting its gateway (or a trial gateway under
 * another id on a copy of its data, with another version), stopping, and
 * calls to a gateway as the manager device.
 */
function opsOf(core: ReturnType<typeof makeCore>, id: string) {
  const { repo, driver, link } = core;
  return {
    get: async (): Promise<Instance> => toInstance(await repo.mustGet(id)),
    transition: async (to: Instance['state'], reason: string, expect?: readonly Instance['state'][], fence?: Fence): Promise<Instance> =>
      toInstance(await repo.transition(id, to, reason, {}, expect, fence)),
    note: (kind: NewEvent['kind'], message: string, fence?: Fence): Promise<InstanceEvent> => repo.event(id, { kind, message }, fence),
    audit: core.audit,
    /**
     * Starts a gateway and waits for /readyz. Without `as`: the instance's own
     * (its runtime recorded, its state unchanged); with `as`: a trial gateway
     * of that id (its own data directory) running `version`. `readyTimeoutMs`:
     * another wait for /readyz than the instance's (an update's trial).
     */
    async startGateway(o: { as?: string; version?: string; readyTimeoutMs?: number } = {}): Promise<{ url: string; pid?: number }> {
      const row = await repo.mustGet(id);
      const target = o.as ?? id;
      let origins: string[] = [];
      const runtime = await core.withSpec(row, async (spec) => {
        origins = spec.allowedOrigins;
        return driver.start({ ...(o.version ? await core.atVersion(spec, o.version) : spec), instanceId: target });
      });
      if (!o.as) await repo.update(id, { ...runtimePatch(runtime), origins });
      const readyMs = o.readyTimeoutMs ?? core.readyTimeoutMs;
      await (driver.waitForReady ? driver.waitForReady(target, readyMs) : waitReady(driver, target, runtime.url, readyMs, core.shutdown.signal));
      if (!o.as) await repo.update(id, { lastError: null });
      return runtime;
    },
    /** Readies `count` starts of its gateway (of `version`) ahead of time where the driver can (local: warm standbys); else nothing. */
    async prewarm(o: { version?: string; count?: number } = {}): Promise<void> {
      if (!driver.prewarm) return;
      await core.withSpec(await repo.mustGet(id), async (spec) => driver.prewarm?.(o.version ? await core.atVersion(spec, o.version) : spec, o.count ?? 1));
    },
    /** Stops the instance's gateway (or the trial's, `as`). */
    async stopGateway(as?: string): Promise<void> {
      await driver.stop(as ?? id, { graceMs: 5_000 });
      if (!as) core.link.forget(id);
    },
    /** Makes the instance's storage without starting a gateway (the driver's prepare; local: its data directory). */
    async prepareStorage(): Promise<void> {
      const prepare = driver.prepare?.bind(driver);
      if (prepare) await core.withSpec(await repo.mustGet(id), (spec) => prepare(spec));
    },
    /** Stops and removes a trial gateway and its data. */
    destroyTrial: (as: string): Promise<void> => driver.destroy(as),
    status: (as?: string) => driver.status(as ?? id),
    call: <T>(url: string, fn: Parameters<typeof link.call<T>>[1], o: { as?: string; timeoutMs?: number } = {}): Promise<T> =>
      link.call({ instanceId: o.as ?? id, url }, fn, o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
    forgetLink: (as?: string) => link.forget(as ?? id),
  };
}
