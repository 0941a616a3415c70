/**
 * Watches every live instance: probes /healthz and /readyz on an interval,
 * marks an instance degraded after N failed probes, restarts a dead or
 * unresponsive gateway with exponential backoff and jitter, calls K restarts
 * within a window a crash loop (→ failed, with the gateway's last log lines),
 * and restarts a gateway whose memory passed its limit gracefully, between
 * turns. Every observation is an instance event. stop() leaves no timer.
 */
import type { Instance } from '@autoclaw/shared';
import type { InstanceDriver } from '../drivers/types';
import { silentLogger } from '../gateway-parts';
import type { Logger } from '../gateway-parts';
import type { InstanceService } from '../instances';
import { backoffDelay, withinWindow } from './backoff';
import type { BackoffOptions } from './backoff';
import { probeGateway } from './probe';

export interface SupervisorOptions {
  service: Pick<InstanceService, 'list' | 'get' | 'isBusy' | 'note' | 'markHealth' | 'markFailed' | 'restart'>;
  driver: InstanceDriver & { onExit?: (listener: (instanceId: string) => void) => () => void };
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
  /** At most one memory restart per instance this often (default 10 minutes). */
  memoryRestartMinIntervalMs?: number;
  /** How long a memory restart waits for running turns (default 60 s). */
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

export function createSupervisor(opts: SupervisorOptions): Supervisor {
  const { service, driver } = opts;
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
    if (!w) watches.set(id, (w = { failures: 0, restartTimes: [], attempt: 0, lastRestartAt: 0, lastMemoryRestartAt: 0, timer: null, restarting: false }));
    return w;
  };

  function track<T>(p: Promise<T>): Promise<T> {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => undefined);
    return p;
  }

  async function restartNow(id: string, reason: string, kind: 'restart' | 'memory'): Promise<void> {
    const w = watchOf(id);
    w.timer = null;
    if (!running || w.restarting) return;
    const current = service.get(id);
    if (!current || !['running', 'degraded', 'starting'].includes(current.state)) return;
    w.restarting = true;
    const at = now();
    if (kind === 'restart') w.restartTimes.push(at);
    w.lastRestartAt = at;
    const started = performance.now();
    let retry = false;
    try {
      await service.restart(id, { reason, kind, drainTimeoutMs: opts.drainTimeoutMs ?? 60_000 });
      w.failures = 0;
      service.note(id, { kind, message: `back up in ${Math.round(performance.now() - started)} ms` });
    } catch (err) {
      logger.warn('restart failed', { instanceId: id, err: err instanceof Error ? err.message : String(err) });
      retry = service.get(id)?.state === 'starting';
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

  async function check(instance: Instance): Promise<void> {
    const id = instance.id;
    const w = watchOf(id);
    if (w.timer || w.restarting || service.isBusy(id)) return;
    const status = await driver.status(id);
    if (!status.alive) {
      const code = status.exitCode === undefined || status.exitCode === null ? '' : ` (exit code ${status.exitCode})`;
      service.note(id, { kind: 'crash', message: `the gateway process ended${code}`, logLines: status.lastLogLines ?? [] });
      service.markHealth(id, 'degraded', 'the gateway process ended');
      scheduleRestart(id, 'the gateway process ended');
      return;
    }
    const url = status.runtime?.url ?? instance.url;
    const probe = url === null ? { ok: false, reason: 'no address known' } : await probeGateway(url, id, probeTimeoutMs);
    if (!probe.ok) {
      w.failures += 1;
      if (w.failures === toDegraded) {
        service.note(id, { kind: 'health', message: `${w.failures} health probes failed: ${probe.reason ?? 'unknown'}` });
        service.markHealth(id, 'degraded', `health probes failing (${probe.reason ?? 'unknown'})`);
      }
      if (w.failures >= toRestart) scheduleRestart(id, `unresponsive: ${probe.reason ?? 'health probes failing'}`);
      return;
    }
    if (w.failures >= toDegraded || instance.state === 'degraded') {
      if (service.markHealth(id, 'running', 'health probes pass again')) service.note(id, { kind: 'health', message: 'healthy again' });
    }
    w.failures = 0;
    if (w.attempt > 0 && now() - w.lastRestartAt >= stableMs) w.attempt = 0;
    const limit = instance.memoryLimitMb;
    if (status.rssMb !== undefined && status.rssMb > limit && now() - w.lastMemoryRestartAt >= memoryMinMs) {
      w.lastMemoryRestartAt = now();
      await restartNow(id, `memory ${Math.round(status.rssMb)} MiB passed the limit of ${limit} MiB`, 'memory');
    }
  }

  async function tickOnce(): Promise<void> {
    const live = service.list().filter((i) => i.state === 'running' || i.state === 'degraded');
    for (const id of watches.keys()) {
      const w = watches.get(id);
      if (w && !w.timer && !w.restarting && !live.some((i) => i.id === id)) watches.delete(id);
    }
    await Promise.all(
      live.map((instance) =>
        check(instance).catch((err: unknown) => logger.warn('probe round failed', { instanceId: instance.id, err: err instanceof Error ? err.message : String(err) })),
      ),
    );
  }

  function tick(): Promise<void> {
    // Rounds never overlap: a slow one is finished before the next begins.
    ticking ??= track(tickOnce()).finally(() => {
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
          const instance = service.get(id);
          if (running && instance && (instance.state === 'running' || instance.state === 'degraded')) {
            void track(check(instance).catch(() => undefined));
          }
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
