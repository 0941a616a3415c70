/**
 * The instances part as the manager server runs it: the driver (local, or
 * the one given — e.g. Kubernetes), the instance service, and — on the
 * replica that holds the leader lease — recovery of every instance, then
 * the supervisor, both fenced by the lease. `close()` stops supervising
 * and waits for running operations; gateways keep running (they outlive
 * the manager and are re-adopted at its next start).
 *
 * Wiring, apart from both parts, so that the supervisor depends on the
 * instance service (through an interface) and never the other way round.
 */
import { AppError } from '@autoclaw/shared';
import type { AuditAppend } from './audit';
import type { Fence, ManagerDb } from './db';
import { createLocalDriver } from './drivers/local';
import type { LocalDriver, LocalDriverOptions } from './drivers/local';
import type { InstanceDriver } from './drivers/types';
import type { Logger } from './gateway-parts';
import { createInstanceService } from './instances';
import type { InstanceKeys, InstanceService, InstanceServiceDeps, RecoveryReport, RemoveWith } from './instances';
import { createSleeper, createSupervisor } from './supervisor';
import type { Sleeper, Supervisor, SupervisorOptions } from './supervisor';
import type { DoorUse } from './door-activity';
import { holdThroughUpdate } from './door-hold';

/** An instance idle this long sleeps, by default. */
export const DEFAULT_SLEEP_AFTER_MS = 15 * 60_000;

export interface InstancesPartOptions {
  dataDir: string;
  db: ManagerDb;
  keys: InstanceKeys;
  audit: { append(entry: AuditAppend): Promise<unknown> };
  /** Rows other parts keep per instance, removed in the instance's delete transaction. */
  removeWith?: RemoveWith;
  now: () => number;
  logger: Logger;
  /** The manager's --driver: `local` makes the local driver; `kubernetes` needs `driver`. */
  driverKind: 'local' | 'kubernetes';
  /** The driver to use (the Kubernetes one); default: the local driver on dataDir. */
  driver?: InstanceDriver;
  /** Options of the local driver (e.g. the gateway command in tests). */
  localDriver?: Partial<Omit<LocalDriverOptions, 'dataDir'>>;
  /** Origins every gateway accepts (every live replica's, the desktop app's scheme); read at each start. */
  allowedOrigins: () => string[];
  /** Environment every gateway gets (provider base URLs, model); never secrets. */
  gatewayEnv?: Record<string, string>;
  memoryLimitMb?: number;
  version?: string;
  /** The URL a user's device reaches an instance at (e.g. its Tailscale Serve name); default the driver's URL. */
  deviceUrlOf?: InstanceServiceDeps['deviceUrlOf'];
  /** With Tailscale: whose requests through Serve an owner's gateway accepts. */
  tailscaleOf?: InstanceServiceDeps['tailscaleOf'];
  /** How long a started instance may take to become ready (default 15 s). */
  readyTimeoutMs?: number;
  /** How long the manager waits for a gateway's answer (default 10 s). */
  gatewayCallTimeoutMs?: number;
  supervisor?: Partial<Omit<SupervisorOptions, 'service' | 'driver' | 'fence'>>;
  /** How often the leader looks for operations a dead replica left half done (default 5 s). */
  sweepEveryMs?: number;
  /** The version an instance runs (the updates part's record); read at each start. */
  versionOf?: InstanceServiceDeps['versionOf'];
  /** A version's pinned release image (Kubernetes). */
  imageOf?: InstanceServiceDeps['imageOf'];
  /** The leader's first work, before instances are settled (interrupted updates and restores). */
  beforeRecover?: (fence: Fence) => Promise<void>;
  /** Operations on one instance hold its lease, so replicas never act on it at once. */
  locks?: InstanceServiceDeps['locks'];
  /** Scale to zero: an instance idle this long sleeps (0: never; default 15 minutes); `checkEveryMs` is the sleeper's round. */
  idle?: { sleepAfterMs: number; checkEveryMs?: number };
  /** The door's use of each instance (the sleeper keeps a used one awake). */
  doorUse?: (id: string) => DoorUse | Promise<DoorUse>;
  /** How long the door holds a client while a sleeping instance wakes (default: the ready time-out + 5 s). */
  wakeTimeoutMs?: number;
  /** New instances are provisioned asleep (no gateway until a client connects). */
  provisionAsleep?: boolean;
  /**
   * Stop every gateway when the manager closes (tests; default false: gateways
   * keep serving and are re-adopted at the next start, their rows unchanged).
   */
  stopGatewaysOnClose?: boolean;
}

export interface InstancesPart {
  service: InstanceService;
  driver: InstanceDriver;
  /** The leader's once-only work: recovers every instance, then supervises — every write through `fence` (the leader lease's). */
  lead(fence: Fence): Promise<RecoveryReport | null>;
  /** The sleeper while this replica leads and sleeping is on (tests run its rounds). */
  sleeper(): Sleeper | null;
  /** Stops supervising (the lease was lost, or the manager stops). */
  unlead(): Promise<void>;
  /** Where the door sends a client of this instance now; AppError NOT_FOUND (no such instance) or CONFLICT (not running). */
  doorTarget(instanceId: string): Promise<{ url: string }>;
  close(): Promise<void>;
}

export async function createInstancesPart(opts: InstancesPartOptions): Promise<InstancesPart> {
  if (opts.driverKind === 'kubernetes' && !opts.driver) {
    throw new AppError('NOT_CONFIGURED', '--driver kubernetes needs the Kubernetes driver to be given to the instances part');
  }
  const driver: InstanceDriver | LocalDriver = opts.driver ?? createLocalDriver({ now: opts.now, ...opts.localDriver, dataDir: opts.dataDir });
  const service = await createInstanceService({
    db: opts.db,
    driver,
    keys: opts.keys,
    audit: opts.audit,
    now: opts.now,
    logger: opts.logger,
    allowedOrigins: opts.allowedOrigins,
    ...(opts.gatewayEnv ? { gatewayEnv: opts.gatewayEnv } : {}),
    ...(opts.memoryLimitMb ? { memoryLimitMb: opts.memoryLimitMb } : {}),
    ...(opts.version ? { version: opts.version } : {}),
    ...(opts.deviceUrlOf ? { deviceUrlOf: opts.deviceUrlOf } : {}),
    ...(opts.tailscaleOf ? { tailscaleOf: opts.tailscaleOf } : {}),
    ...(opts.readyTimeoutMs ? { readyTimeoutMs: opts.readyTimeoutMs } : {}),
    ...(opts.gatewayCallTimeoutMs ? { gatewayCallTimeoutMs: opts.gatewayCallTimeoutMs } : {}),
    ...(opts.locks ? { locks: opts.locks } : {}),
    ...(opts.versionOf ? { versionOf: opts.versionOf } : {}),
    ...(opts.imageOf ? { imageOf: opts.imageOf } : {}),
    ...(opts.provisionAsleep ? { provisionAsleep: true } : {}),
    ...(opts.removeWith ? { removeWith: opts.removeWith } : {}),
  });
  let supervisor: Supervisor | null = null;
  let sleeper: Sleeper | null = null;
  const sleepAfterMs = opts.idle?.sleepAfterMs ?? DEFAULT_SLEEP_AFTER_MS;
  const wakeTimeoutMs = opts.wakeTimeoutMs ?? (opts.readyTimeoutMs ?? 15_000) + 5_000;
  let sweeper: NodeJS.Timeout | null = null;
  let sweeping: Promise<unknown> | null = null;
  let closed = false;
  let leading = 0;

  async function unlead(): Promise<void> {
    leading += 1;
    if (sweeper) clearInterval(sweeper);
    sweeper = null;
    const current = supervisor;
    supervisor = null;
    await current?.stop();
    const asleep = sleeper;
    sleeper = null;
    await asleep?.stop();
    await sweeping;
  }

  /** Wakes for a client at the door, within the time limit; a wake that failed is PROVIDER_UNAVAILABLE (HTTP 503) with the reason. */
  async function wakeForDoor(id: string) {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AppError('TIMEOUT', `did not wake within ${Math.round(wakeTimeoutMs / 1000)} s`)), wakeTimeoutMs);
    });
    try {
      return await Promise.race([service.wake(id, 'a client came through the door'), limit]);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new AppError('PROVIDER_UNAVAILABLE', `your assistant could not wake: ${why}`, { details: { wakeFailed: true, state: (await service.get(id))?.state ?? 'unknown' } });
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    service,
    driver,
    sleeper: () => sleeper,
    async doorTarget(instanceId) {
      let instance = await service.get(instanceId);
      if (!instance) throw new AppError('NOT_FOUND', 'no such instance');
      // Asleep (or waking): the client is held until it is ready — or told clearly why it could not wake.
      if (instance.state === 'sleeping' || instance.state === 'starting') instance = await wakeForDoor(instanceId);
      // Updating: served by the live gateway, held through its switch (door-hold.ts).
      if (instance.state === 'updating') {
        const onHold = () => opts.logger.info('door: holding a client through the switch of an update', { instanceId });
        instance = (await holdThroughUpdate({ get: (id) => service.get(id), timeoutMs: wakeTimeoutMs, onHold }, instanceId)) ?? instance;
      }
      if ((instance.state !== 'running' && instance.state !== 'degraded' && instance.state !== 'updating') || instance.url === null) {
        throw new AppError('CONFLICT', `your assistant is ${instance.state} and cannot answer now`, { details: { state: instance.state } });
      }
      return { url: instance.url };
    },
    async lead(fence) {
      await unlead();
      const term = leading;
      await opts.beforeRecover?.(fence).catch((err: unknown) => opts.logger.error('settling interrupted updates failed', { err: err instanceof Error ? err.message : String(err) }));
      const report = await service.recover(fence);
      opts.logger.info('instances recovered', {
        adopted: report.adopted.length,
        restarted: report.restarted.length,
        resumed: report.resumed.length,
        stopped: report.stopped.length,
        deleted: report.deleted.length,
        failed: report.failed.length,
        busyElsewhere: report.busyElsewhere.length,
      });
      // Lost the lead (or closing) meanwhile: someone else supervises.
      if (closed || term !== leading) return report;
      supervisor = createSupervisor({ ...opts.supervisor, service, driver, fence, now: opts.now, logger: opts.logger });
      supervisor.start();
      if (sleepAfterMs > 0) {
        sleeper = createSleeper({
          service,
          sleepAfterMs,
          ...(opts.idle?.checkEveryMs ? { intervalMs: opts.idle.checkEveryMs } : {}),
          ...(opts.doorUse ? { doorUse: opts.doorUse } : {}),
          fence,
          now: opts.now,
          logger: opts.logger,
        });
        sleeper.start();
      }
      // An operation whose replica died mid-way (its lock lapsed) is finished by the leader.
      sweeper = setInterval(() => {
        sweeping ??= service
          .sweep(fence)
          .catch((err: unknown) => opts.logger.warn('sweep failed', { err: err instanceof Error ? err.message : String(err) }))
          .finally(() => {
            sweeping = null;
          });
      }, opts.sweepEveryMs ?? 5_000);
      return report;
    },
    unlead,
    async close() {
      closed = true;
      await unlead();
      await service.close();
      if (opts.stopGatewaysOnClose) {
        await Promise.all(
          (await service.list()).map((i) => driver.stop(i.id, { graceMs: 5_000 }).catch((err: unknown) => opts.logger.warn('could not stop a gateway', { instanceId: i.id, err }))),
        );
      }
      await driver.close();
    },
  };
}
