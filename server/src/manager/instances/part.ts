/**
 * The instances part as the manager server runs it: the driver (local, or
 * the one given — e.g. Kubernetes), the instance service, recovery of every
 * instance left by a previous manager, then the supervisor. `close()` stops
 * supervising and waits for running operations; gateways keep running
 * (they outlive the manager and are re-adopted at its next start).
 */
import { AppError } from '@autoclaw/shared';
import type { AuditAppend } from '../audit';
import type { ManagerDb } from '../db';
import { createLocalDriver } from '../drivers/local';
import type { LocalDriver, LocalDriverOptions } from '../drivers/local';
import type { InstanceDriver } from '../drivers/types';
import type { Logger } from '../gateway-parts';
import { createSupervisor } from '../supervisor';
import type { Supervisor, SupervisorOptions } from '../supervisor';
import type { InstanceKeys, InstanceServiceDeps } from './core';
import type { RecoveryReport } from './recovery';
import { createInstanceService } from './service';
import type { InstanceService } from './service';

export interface InstancesPartOptions {
  dataDir: string;
  db: ManagerDb;
  keys: InstanceKeys;
  audit: { append(entry: AuditAppend): unknown };
  now: () => number;
  logger: Logger;
  /** The manager's --driver: `local` makes the local driver; `kubernetes` needs `driver`. */
  driverKind: 'local' | 'kubernetes';
  /** The driver to use (the Kubernetes one); default: the local driver on dataDir. */
  driver?: InstanceDriver;
  /** Options of the local driver (e.g. the gateway command in tests). */
  localDriver?: Partial<Omit<LocalDriverOptions, 'dataDir'>>;
  /** Origins every gateway accepts (the manager's UI, the desktop app's scheme); read at each start. */
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
  supervisor?: Partial<Omit<SupervisorOptions, 'service' | 'driver'>>;
  /**
   * Stop every gateway when the manager closes (tests; default false: gateways
   * keep serving and are re-adopted at the next start, their rows unchanged).
   */
  stopGatewaysOnClose?: boolean;
}

export interface InstancesPart {
  service: InstanceService;
  driver: InstanceDriver;
  /** Recovers every instance, then starts supervising (call once the manager listens). */
  begin(): Promise<RecoveryReport>;
  close(): Promise<void>;
}

export function createInstancesPart(opts: InstancesPartOptions): InstancesPart {
  if (opts.driverKind === 'kubernetes' && !opts.driver) {
    throw new AppError('NOT_CONFIGURED', '--driver kubernetes needs the Kubernetes driver to be given to the instances part');
  }
  const driver: InstanceDriver | LocalDriver = opts.driver ?? createLocalDriver({ now: opts.now, ...opts.localDriver, dataDir: opts.dataDir });
  const service = createInstanceService({
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
  });
  let supervisor: Supervisor | null = null;
  let closed = false;
  return {
    service,
    driver,
    async begin() {
      const report = await service.recover();
      opts.logger.info('instances recovered', {
        adopted: report.adopted.length,
        restarted: report.restarted.length,
        resumed: report.resumed.length,
        stopped: report.stopped.length,
        deleted: report.deleted.length,
        failed: report.failed.length,
      });
      if (!closed) {
        supervisor = createSupervisor({ ...opts.supervisor, service, driver, now: opts.now, logger: opts.logger });
        supervisor.start();
      }
      return report;
    },
    async close() {
      closed = true;
      await supervisor?.stop();
      await service.close();
      if (opts.stopGatewaysOnClose) {
        await Promise.all(service.list().map((i) => driver.stop(i.id, { graceMs: 5_000 }).catch((err: unknown) => opts.logger.warn('could not stop a gateway', { instanceId: i.id, err }))));
      }
      await driver.close();
    },
  };
}
