/**
 * The instance service: one instance per user, its lifecycle through the
 * driver and the persisted state machine, its events, pairing tickets and
 * devices, and recovery after a manager restart. Built from plain parts
 * (repository, lifecycle, device operations, recovery) over one database.
 */
import { AppError } from '@autoclaw/shared';
import type { Instance, InstanceEvent } from '@autoclaw/shared';
import { silentLogger } from '../gateway-parts';
import { makeCore } from './core';
import type { InstanceServiceDeps } from './core';
import { createDeviceOps } from './device-ops';
import { createEventFeed } from './event-feed';
import { createGatewayLink } from './gateway-link';
import { createKeyedLock } from './keyed-lock';
import { createLifecycle, normalizeOwner } from './lifecycle';
import type { OpOptions, RestartOptions } from './lifecycle';
import { recoverInstances } from './recovery';
import type { RecoveryReport } from './recovery';
import { createInstanceRepository, toInstance } from './repository';
import type { NewEvent } from './repository';
import { migrateInstances } from './schema';

export type { InstanceServiceDeps, InstanceKeys } from './core';
export type { OpOptions, RestartOptions } from './lifecycle';
export type { RecoveryReport } from './recovery';

export function createInstanceService(deps: InstanceServiceDeps) {
  migrateInstances(deps.db);
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? silentLogger;
  let feed: ReturnType<typeof createEventFeed> | null = null;
  const repo = createInstanceRepository(deps.db, now, (event) => feed?.publish(event));
  feed = createEventFeed({ read: (id, after) => repo.eventsAfter(id, after), exists: (id) => repo.get(id) !== null });
  const lock = createKeyedLock();
  const link = createGatewayLink({ keys: { managerPublicKey: deps.keys.publicKey, sign: deps.keys.sign }, now });
  const core = makeCore(deps, { repo, link, lock, logger });
  const lifecycle = createLifecycle(core, { memoryLimitMb: deps.memoryLimitMb ?? 512 });
  const devices = createDeviceOps(core);
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

  const get = (id: string): Instance | null => {
    const row = repo.get(id);
    return row ? toInstance(row) : null;
  };

  return {
    driverKind: deps.driver.kind,
    /** Creates the owner's instance and waits until it runs (or failed). */
    provision: (owner: string, op?: OpOptions) => lifecycle.provision(owner, op),
    /** Creates the owner's instance when there is none; answers at once (provisioning continues). */
    ensureFor(owner: string, op?: OpOptions): Instance {
      const email = normalizeOwner(owner);
      const existing = repo.byOwner(email);
      if (existing) return toInstance(existing);
      // provision() writes the row before its first await, so it exists once the call returns.
      const pending = lifecycle.provision(email, op);
      inBackground('provisioning', null, () => pending);
      const created = repo.byOwner(email);
      if (!created) throw new AppError('INTERNAL', 'the instance was not created');
      return toInstance(created);
    },
    start: (id: string, op?: OpOptions) => lifecycle.start(id, op),
    stop: (id: string, op?: OpOptions) => lifecycle.stop(id, op),
    delete: (id: string, op?: OpOptions) => lifecycle.delete(id, op),
    /** Starts/stops/deletes after answering with the instance as it is now. */
    startLater(id: string, op?: OpOptions): Instance {
      const view = mustGet(id);
      inBackground('start', id, () => lifecycle.start(id, op));
      return view;
    },
    stopLater(id: string, op?: OpOptions): Instance {
      const view = mustGet(id);
      inBackground('stop', id, () => lifecycle.stop(id, op));
      return view;
    },
    deleteLater(id: string, op?: OpOptions): Instance {
      const view = mustGet(id);
      inBackground('delete', id, () => lifecycle.delete(id, op));
      return view;
    },
    restart: (id: string, r: RestartOptions) => lifecycle.restart(id, r),
    setMemoryLimit: (id: string, mb: number) => lifecycle.setMemoryLimit(id, mb),

    get,
    mustGet,
    byOwner(owner: string): Instance | null {
      const row = repo.byOwner(owner.trim().toLowerCase());
      return row ? toInstance(row) : null;
    },
    list: (): Instance[] => repo.list().map(toInstance),
    /** True while an operation on the instance runs in this process (the supervisor keeps off). */
    isBusy: (id: string) => lock.isBusy(id),

    events: (id: string, afterId = 0, limit = 500): InstanceEvent[] => repo.eventsAfter(id, afterId, limit),
    lastEvents: (id: string, limit = 100): InstanceEvent[] => repo.lastEvents(id, limit),
    watch: (id: string, afterId: number, signal: AbortSignal) => (feed as NonNullable<typeof feed>).watch(id, afterId, signal),
    /** Records a supervisor observation (health, crash) as an event. */
    note: (id: string, e: NewEvent): InstanceEvent => repo.event(id, e),
    /** running → degraded, or degraded → running, with the reason (no-op when not in `from`). */
    markHealth(id: string, to: 'running' | 'degraded', reason: string): Instance | null {
      if (lock.isBusy(id)) return null;
      const row = repo.get(id);
      const from = to === 'degraded' ? 'running' : 'degraded';
      if (!row || row.state !== from) return null;
      return toInstance(repo.transition(id, to, reason, {}, [from]));
    },
    /** Crash loop: failed, with the last log lines as the error. */
    async markFailed(id: string, reason: string): Promise<void> {
      await lock.run(id, () => core.fail(id, new Error(reason), 'supervision'));
    },

    issueTicket: devices.issueTicket,
    listDevices: devices.listDevices,
    revokeDevice: devices.revokeDevice,
    drain: devices.drain,
    health: devices.health,

    recover: (): Promise<RecoveryReport> => recoverInstances(core, lifecycle),

    /** Waits for background operations; gateways keep running (they outlive the manager). */
    async close(): Promise<void> {
      closed = true;
      core.shutdown.abort();
      feed?.close();
      while (background.size > 0) await Promise.allSettled([...background]);
    },
  };

  function mustGet(id: string): Instance {
    return toInstance(repo.mustGet(id));
  }
}

export type InstanceService = ReturnType<typeof createInstanceService>;
