/**
 * Watches every live instance: probes /healthz and /readyz on an interval,
 * marks an instance degraded after N failed probes, restarts a dead or
 * unresponsive gateway with exponential backoff and jitter, calls K restarts
 * within a window a crash loop (→ failed, with the gateway's last log lines),
 * restarts a gateway whose memory passed its limit gracefully, between
 * turns, and re-launches (gracefully too) a gateway launched for another
 * manager address, so it accepts the manager UI's current origin. Every
 * observation is an instance event. stop() leaves no timer.
 *
 * It runs on the replica that holds the leader lease; `fence` goes with
 * every write, so a replica that lost the lease writes nothing more.
 */
import type { Instance, InstanceEvent, InstanceEventKind } from '@autoclaw/shared';
import type { Fence } from '../db';
import type { InstanceDriver } from '../drivers/types';
import { silentLogger } from '../gateway-parts';
import type { Logger } from '../gateway-parts';
import { backoffDelay, withinWindow } from './backoff';
import type { BackoffOptions } from './backoff';
import { probeGateway } from './probe';

/** What the supervisor needs of the instance service (defined here, so the supervisor does not depend on the instances part). */
export interface SupervisedService {
  /** Running and degraded instances, with the origins their gateways lack. */
  listLive(): Promise<Array<Instance & { missingOrigins: string[] }>>;
  get(id: string): Promise<Instance | null>;
  isBusy(id: string): Promise<boolean>;
  note(id: string, e: { kind: InstanceEventKind; message: string; logLines?: string[] }, fence?: Fence): Promise<InstanceEvent>;
  markHealth(id: string, to: 'running' | 'degraded', reason: string, fence?: Fence): Promise<Instance | null>;
  markFailed(id: string, reason: string): Promise<void>;
  restart(id: string, r: { reason: string; kind: 'restart' | 'memory'; graceful?: boolean; drainTimeoutMs?: number; fence?: Fence }): Promise<Instance>;
}

export interface SupervisorOptions {
  service: SupervisedService;
  driver: InstanceDriver & { onExit?: (listener: (instanceId: string) => void) => () => void };
  /** The leader lease's fence (absent: a manager that supervises alone, e.g. in tests). */
  fence?: Fence;
  /** Probe interval (default 2 s). */
  intervalMs?: number;
  probeTimeoutMs?: number;
  /** Failed probes of a live process before `degraded` (default 3) and before a restart (default 6). */
  failuresBeforeDegraded?: number;
  failuresBeforeRestart?: number;
  backoff?: BackoffOptions;
  /** K restarts within windowMs is a crash loop (default 5 within 2 minutes). */
  crashLoop?: { restarts?: number; windowMs?: number };
  /** Healthy this long after a restart resets the backoff (default 60 s). */
  stableMs?: number;
  /** At most one memory restart (and one re-launch for new origins) per instance this often (default 10 minutes). */
  memoryRestartMinIntervalMs?: number;
  /** How long a graceful restart waits for running turns (default 60 s). */
  drainTimeoutMs?: number;
  now?: () => number;
  random?: () => number;
  logger?: Logger;
}

interface Watch {
  failures: number;
  restartTimes: number[];
  attempt: number;
  lastRestartAt: number;
  lastMemoryRestartAt: number;
  lastRelaunchAt: number;
  timer: NodeJS.Timeout | null;
  restarting: boolean;
}

export interface Supervisor {
  start(): void;
  /** Stops probing, cancels pending restarts and waits for running ones. */
  stop(): Promise<void>;
  /** Runs one round of probes now (tests, and right after start). */
  tick(): Promise<void>;
}

const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function createSupervisor(opts: SupervisorOptions): Supervisor {
  const { service, driver, fence } = opts;
  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const logger = opts.logger ?? silentLogger;
  const intervalMs = opts.intervalMs ?? 2_000;
  const probeTimeoutMs = opts.probeTimeoutMs ?? Math.min(1_000, intervalMs);
  const toDegraded = opts.failuresBeforeDegraded ?? 3;
  const toRestart = Math.max(toDegraded, opts.failuresBeforeRestart ?? 6);
  const loopRestarts = opts.crashLoop?.restarts ?? 5;
  const loopWindowMs = opts.crashLoop?.windowMs ?? 120_000;
  const stableMs = opts.stableMs ?? 60_000;
  const memoryMinMs = opts.memoryRestartMinIntervalMs ?? 600_000;
  const watches = new Map<string, Watch>();
  const inFlight = new Set<Promise<unknown>>();
  let interval: NodeJS.Timeout | null = null;
  let ticking: Promise<void> | null = null;
  let unsubscribe: (() => void) | null = null;
  let running = false;

  const watchOf = (id: string): Watch => {
    let w = watches.get(id);
    if (!w) watches.set(id, (w = { failures: 0, restartTimes: [], attempt: 0, lastRestartAt: 0, lastMemoryRestartAt: 0, lastRelaunchAt: 0, timer: null, restarting: false }));
    return w;
  };

  function track<T>(p: Promise<T>): Promise<T> {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => undefined);
    return p;
  }

  const note = (id: string, e: { kind: InstanceEventKind; message: string; logLines?: string[] }) => service.note(id, e, fence);

  async function restartNow(id: string, reason: string, kind: 'restart' | 'memory', graceful?: boolean): Promise<void> {
    const w = watchOf(id);
    w.timer = null;
    if (!running || w.restarting) return;
    const current = await service.get(id);
    if (!current || !['running', 'degraded', 'starting'].includes(current.state)) return;
    w.restarting = true;
    const at = now();
    if (kind === 'restart' && !graceful) w.restartTimes.push(at);
    w.lastRestartAt = at;
    const started = performance.now();
    let retry = false;
    try {
      await service.restart(id, { reason, kind, drainTimeoutMs: opts.drainTimeoutMs ?? 60_000, ...(graceful ? { graceful } : {}), ...(fence ? { fence } : {}) });
      w.failures = 0;
      await note(id, { kind, message: `back up in ${Math.round(performance.now() - started)} ms` });
    } catch (err) {
      logger.warn('restart failed', { instanceId: id, err: errText(err) });
      retry = (await service.get(id).catch(() => null))?.state === 'starting';
    } finally {
      w.restarting = false;
    }
    if (retry) scheduleRestart(id, 'the previous restart failed');
  }

  /** Restarts after the backoff, or declares a crash loop. */
  function scheduleRestart(id: string, reason: string): void {
    const w = watchOf(id);
    if (w.timer || w.restarting || !running) return;
    w.restartTimes = withinWindow(w.restartTimes, now(), loopWindowMs);
    if (w.restartTimes.length >= loopRestarts) {
      const verdict = `crash loop: ${w.restartTimes.length} restarts within ${Math.round(loopWindowMs / 1000)} s (${reason})`;
      watches.delete(id);
      void track(service.markFailed(id, verdict).catch((err: unknown) => logger.error('could not mark a crash loop', { instanceId: id, err })));
      return;
    }
    const delay = backoffDelay(w.attempt++, opts.backoff ?? {}, random);
    w.timer = setTimeout(() => void track(restartNow(id, reason, 'restart')), delay);
  }

  async function check(instance: Instance & { missingOrigins?: string[] }): Promise<void> {
    const id = instance.id;
    const w = watchOf(id);
    if (w.timer || w.restarting || (await service.isBusy(id))) return;
    const status = await driver.status(id);
    if (!status.alive) {
      const code = status.exitCode === undefined || status.exitCode === null ? '' : ` (exit code ${status.exitCode})`;
      await note(id, { kind: 'crash', message: `the gateway process ended${code}`, logLines: status.lastLogLines ?? [] });
      await service.markHealth(id, 'degraded', 'the gateway process ended', fence);
      scheduleRestart(id, 'the gateway process ended');
      return;
    }
    const url = status.runtime?.url ?? instance.url;
    const probe = url === null ? { ok: false, reason: 'no address known' } : await probeGateway(url, id, probeTimeoutMs);
    if (!probe.ok) {
      w.failures += 1;
      if (w.failures === toDegraded) {
        await note(id, { kind: 'health', message: `${w.failures} health probes failed: ${probe.reason ?? 'unknown'}` });
        await service.markHealth(id, 'degraded', `health probes failing (${probe.reason ?? 'unknown'})`, fence);
      }
      if (w.failures >= toRestart) scheduleRestart(id, `unresponsive: ${probe.reason ?? 'health probes failing'}`);
      return;
    }
    if (w.failures >= toDegraded || instance.state === 'degraded') {
      if (await service.markHealth(id, 'running', 'health probes pass again', fence)) await note(id, { kind: 'health', message: 'healthy again' });
    }
    w.failures = 0;
    if (w.attempt > 0 && now() - w.lastRestartAt >= stableMs) w.attempt = 0;
    const limit = instance.memoryLimitMb;
    if (status.rssMb !== undefined && status.rssMb > limit && now() - w.lastMemoryRestartAt >= memoryMinMs) {
      w.lastMemoryRestartAt = now();
      await restartNow(id, `memory ${Math.round(status.rssMb)} MiB passed the limit of ${limit} MiB`, 'memory');
      return;
    }
    const missing = instance.missingOrigins ?? [];
    if (missing.length > 0 && now() - w.lastRelaunchAt >= memoryMinMs) {
      w.lastRelaunchAt = now();
      const shown = missing.slice(0, 3).join(', ') + (missing.length > 3 ? ', …' : '');
      await restartNow(id, `re-launched to accept the manager's current address (${shown})`, 'restart', true);
    }
  }

  async function tickOnce(): Promise<void> {
    const live = await service.listLive();
    for (const id of watches.keys()) {
      const w = watches.get(id);
      if (w && !w.timer && !w.restarting && !live.some((i) => i.id === id)) watches.delete(id);
    }
    await Promise.all(live.map((instance) => check(instance).catch((err: unknown) => logger.warn('probe round failed', { instanceId: instance.id, err: errText(err) }))));
  }

  function tick(): Promise<void> {
    // Rounds never overlap: a slow one is finished before the next begins.
    ticking ??= track(tickOnce().catch((err: unknown) => logger.warn('supervision round failed', { err: errText(err) }))).finally(() => {
      ticking = null;
    });
    return ticking;
  }

  return {
    start() {
      if (running) return;
      running = true;
      interval = setInterval(() => void tick(), intervalMs);
      unsubscribe =
        driver.onExit?.((id) => {
          if (!running) return;
          void track(
            service
              .get(id)
              .then((instance) => (instance && (instance.state === 'running' || instance.state === 'degraded') ? check(instance) : undefined))
              .catch(() => undefined),
          );
        }) ?? null;
      void tick();
    },
    async stop() {
      running = false;
      if (interval) clearInterval(interval);
      interval = null;
      unsubscribe?.();
      unsubscribe = null;
      for (const w of watches.values()) {
        if (w.timer) clearTimeout(w.timer);
        w.timer = null;
      }
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      watches.clear();
    },
    tick,
  };
}
