/**
 * The local driver (the embedded default): each instance is a gateway
 * process on this machine with its data directory DIR/instances/<id> and its
 * own loopback port. Gateways are detached, so they outlive a manager crash;
 * a restarted manager re-adopts them (pid alive, its command line names the
 * instance, and /healthz on its port reports the same instance id).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '@autoclaw/shared';
import { readRuntimeFile } from '../../../gateway';
import type { DriverStatus, InstanceDriver, InstanceRuntime, InstanceSpec } from '../types';
import { instanceDir, lastLogLines, readRecord, rotateLog, writeRecord } from './instance-files';
import type { ProcessRecord } from './instance-files';
import { choosePort, freePort } from './ports';
import { isGatewayOf, isProcessAlive, rssMbOf } from './process-info';
import { waitForRuntimeFile } from './runtime-signal';
import { awaitStart, gatewayArgs, killGroup, spawnGateway, StartFailure } from './spawn-gateway';
import { createStandbyPool, isStandbyProcess } from './standby-pool';
import type { Standby } from './standby-pool';

export interface LocalDriverOptions {
  /** The manager's data directory; instances live in DIR/instances/<id>. */
  dataDir: string;
  /** [executable, ...args] that runs `autoclaw` (default: this Node and the checkout's server/bin/autoclaw.mjs). */
  command?: readonly string[];
  /**
   * Installed releases (default DIR/releases): a spec whose version has
   * <releasesDir>/<version>/autoclaw.mjs runs that build; any other version runs `command`.
   */
  releasesDir?: string;
  /** Address gateways listen on (default 127.0.0.1). */
  host?: string;
  /** Environment every gateway gets (the spec's env is added); never secrets. */
  baseEnv?: Record<string, string>;
  /** The log is rotated past this size (default 5 MiB). */
  logMaxBytes?: number;
  /** A gateway that has not listened by then is killed (default 15 s). */
  startTimeoutMs?: number;
  /**
   * Warm standby gateways kept ready (default 0: every start spawns Node). A
   * start takes one instead of spawning (see standby-pool.ts); it is replaced
   * `standbyRefillMs` later (default 3 s).
   */
  standbys?: number;
  standbyRefillMs?: number;
  /** Fallback polls for a starting gateway's runtime file (see runtime-signal.ts). */
  pollMs?: (n: number) => number;
  now?: () => number;
}

export interface LocalDriver extends InstanceDriver {
  readonly kind: 'local';
  /** Called when a gateway this driver started exits (the supervisor's fast path). */
  onExit(listener: (instanceId: string, code: number | null, signal: NodeJS.Signals | null) => void): () => void;
}

/**
 * Node flags of a gateway, the same as on server/bin/autoclaw.mjs's first
 * line: a small young generation, no TurboFan, V8's memory-over-speed mode
 * and one helper thread (GC on the main thread) keep an idle instance small;
 * --liftoff-only keeps WebAssembly (undici's HTTP parser, under Slack's
 * socket) on its baseline code: tiering it up held 10–30 MB.
 */
export const GATEWAY_NODE_FLAGS = ['--max-semi-space-size=2', '--no-opt', '--optimize-for-size', '--single-threaded-gc', '--v8-pool-size=1', '--liftoff-only'] as const;

/**
 * glibc malloc settings of a gateway, also on the bin's first line (read
 * when the process starts, so they must be in its environment): blocks of
 * 32 KiB and more (V8's parser and compiler zones) are mapped and unmapped
 * on their own instead of leaving holes in the main heap that glibc never
 * gives back (~17 MB after baileys loaded; bench/channels-all). A base or
 * spec environment may override them.
 */
export const GATEWAY_MALLOC_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '32768' };

/** server/bin/autoclaw.mjs of the checkout this code runs from (source or bundle). */
export function defaultGatewayCommand(): string[] {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const bin = join(dir, 'server', 'bin', 'autoclaw.mjs');
    if (existsSync(bin)) return [process.execPath, ...GATEWAY_NODE_FLAGS, bin];
    dir = dirname(dir);
  }
  throw new Error('cannot find server/bin/autoclaw.mjs; pass the driver a command');
}

/** A standby warmed for a coming start (prewarm) ends when no start took it by then. */
const PREWARM_TTL_MS = 120_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal); // the gateway leads its own process group
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

async function healthOf(url: string): Promise<{ instanceId?: unknown } | null> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_500) });
    return res.ok ? ((await res.json()) as { instanceId?: unknown }) : null;
  } catch {
    return null;
  }
}

export function createLocalDriver(opts: LocalDriverOptions): LocalDriver {
  const host = opts.host ?? '127.0.0.1';
  const now = opts.now ?? Date.now;
  const logMaxBytes = opts.logMaxBytes ?? 5 * 1024 * 1024;
  const command = opts.command ?? defaultGatewayCommand();
  const releasesDir = opts.releasesDir ?? join(opts.dataDir, 'releases');
  const commandOf = (version: string): readonly string[] => {
    const entry = join(releasesDir, version, 'autoclaw.mjs');
    return /^[0-9A-Za-z.+-]{1,60}$/.test(version) && !version.startsWith('.') && existsSync(entry) ? [process.execPath, ...GATEWAY_NODE_FLAGS, entry] : command;
  };
  const listeners = new Set<(id: string, code: number | null, signal: NodeJS.Signals | null) => void>();
  const exits = new Map<string, { pid: number; code: number | null }>();
  const dirOf = (id: string) => instanceDir(opts.dataDir, id);
  const urlOf = (port: number) => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const standbyRoot = join(opts.dataDir, 'standby');
  const pool = createStandbyPool({ root: standbyRoot, size: opts.standbys ?? 0, ...(opts.standbyRefillMs === undefined ? {} : { refillDelayMs: opts.standbyRefillMs }) });

  const envOf = (spec: InstanceSpec): Record<string, string> => {
    const env: Record<string, string> = { ...GATEWAY_MALLOC_ENV, ...opts.baseEnv, ...spec.env };
    env['NODE_OPTIONS'] = withHeapCap(env['NODE_OPTIONS'], spec.memoryLimitMb);
    return env;
  };

  /** `pid` runs the instance's gateway: its command line names the instance, or it is the standby the record names. */
  function isOurs(pid: number, id: string, record: ProcessRecord | null): boolean {
    if (isGatewayOf(pid, id)) return true;
    return record?.standby !== undefined && record.pid === pid && isStandbyProcess(pid, standbyRoot, record.standby);
  }

  /** The pid of the instance's gateway when it is alive and really ours. */
  function livePid(id: string): number | null {
    const dir = dirOf(id);
    const record = readRecord(dir);
    for (const pid of [record?.pid, readRuntimeFile(dir)?.pid]) {
      if (pid !== undefined && isProcessAlive(pid) && isOurs(pid, id, record)) return pid;
    }
    return null;
  }

  const exited = (id: string, pid: number, code: number | null, signal: NodeJS.Signals | null) => {
    exits.set(id, { pid, code });
    for (const l of [...listeners]) l(id, code, signal);
  };

  /** Makes a warm standby the instance's gateway (no Node start-up, no module loading). */
  async function viaStandby(standby: Standby, spec: InstanceSpec, dir: string, port: number): Promise<InstanceRuntime> {
    const id = spec.instanceId;
    writeRecord(dir, { pid: standby.pid, port, startedAt: now(), standby: standby.id });
    let nudge = () => {};
    const key = Buffer.from(spec.dataKey);
    // The arguments after `gateway` (the standby runs that command already).
    try {
      standby.assign(dir, gatewayArgs(spec, dir, host, port, { keyFd: false }).slice(1), key, (code, signal) => {
        exited(id, standby.pid, code, signal);
        nudge();
      });
    } catch (err) {
      killGroup(standby.pid); // half assigned: it must not linger
      throw err;
    } finally {
      key.fill(0);
    }
    return awaitStart(dir, standby.pid, {
      startTimeoutMs: opts.startTimeoutMs ?? 15_000,
      exited: () => standby.exited(),
      onNudge: (n) => {
        nudge = n;
      },
      ...(opts.pollMs ? { pollMs: opts.pollMs } : {}),
    });
  }

  async function stopPid(pid: number, graceMs: number): Promise<void> {
    signalGroup(pid, 'SIGTERM');
    // A stopped (SIGSTOP) gateway only acts on the TERM once it runs again.
    signalGroup(pid, 'SIGCONT');
    const deadline = performance.now() + graceMs;
    while (isProcessAlive(pid) && performance.now() < deadline) await sleep(25);
    if (!isProcessAlive(pid)) return;
    signalGroup(pid, 'SIGKILL');
    const killDeadline = performance.now() + 5_000;
    while (isProcessAlive(pid)) {
      if (performance.now() > killDeadline) throw new AppError('TIMEOUT', `gateway process ${pid} did not end after SIGKILL`);
      await sleep(10);
    }
  }

  async function adopt(id: string): Promise<InstanceRuntime | null> {
    const dir = dirOf(id);
    const runtime = readRuntimeFile(dir);
    const record = readRecord(dir);
    if (!runtime || !isProcessAlive(runtime.pid) || !isOurs(runtime.pid, id, record)) return null;
    const health = await healthOf(runtime.url);
    if (health?.instanceId !== id) return null;
    if (record?.pid !== runtime.pid || record.port !== runtime.port) writeRecord(dir, { pid: runtime.pid, port: runtime.port, startedAt: runtime.startedAt });
    return { url: runtime.url, pid: runtime.pid, port: runtime.port };
  }

  async function start(spec: InstanceSpec): Promise<InstanceRuntime> {
    const id = spec.instanceId;
    const dir = dirOf(id);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const running = await adopt(id);
    if (running) return running;
    // A live gateway that does not answer its health (hung): it goes before a new one starts.
    const stale = livePid(id);
    if (stale !== null) await stopPid(stale, 3_000);
    rotateLog(dir, logMaxBytes);
    const env = envOf(spec);
    const spawnOn = (port: number) =>
      spawnGateway(spec, {
        command: commandOf(spec.version),
        dir,
        host,
        port,
        env,
        startTimeoutMs: opts.startTimeoutMs ?? 15_000,
        now,
        onExit: (child: ChildProcess, code) => {
          if (child.pid !== undefined) exited(id, child.pid, code, child.signalCode);
        },
        ...(opts.pollMs ? { pollMs: opts.pollMs } : {}),
      });
    const preferred = readRecord(dir)?.port ?? readRuntimeFile(dir)?.port;
    try {
      const port = await choosePort(preferred, host);
      const standby = pool.take(commandOf(spec.version), env);
      if (standby) {
        // A standby that ended during its start (a build without --standby, say): a fresh process once, as without one.
        const viaPool = await viaStandby(standby, spec, dir, port).catch((err: unknown) => {
          if (err instanceof StartFailure) return null;
          throw err;
        });
        if (viaPool) return viaPool;
      }
      return await spawnOn(port);
    } catch (err) {
      // Someone took the port between the check and the gateway's listen: once more on a fresh one.
      if (err instanceof StartFailure && err.portInUse) return spawnOn(await freePort(host));
      throw err;
    }
  }

  return {
    kind: 'local',
    provision: start,
    async prepare(spec) {
      mkdirSync(dirOf(spec.instanceId), { recursive: true, mode: 0o700 });
    },
    start,
    async stop(id, stopOpts = {}) {
      const graceMs = stopOpts.graceMs ?? 10_000;
      for (let pid = livePid(id); pid !== null; pid = livePid(id)) await stopPid(pid, graceMs);
    },
    async destroy(id) {
      for (let pid = livePid(id); pid !== null; pid = livePid(id)) await stopPid(pid, 5_000);
      rmSync(dirOf(id), { recursive: true, force: true });
      exits.delete(id);
    },
    async status(id): Promise<DriverStatus> {
      const dir = dirOf(id);
      rotateLog(dir, logMaxBytes);
      const record = readRecord(dir);
      const runtimeFile = readRuntimeFile(dir);
      const pid = livePid(id);
      let runtime: InstanceRuntime | null = null;
      if (runtimeFile && (pid === null || runtimeFile.pid === pid)) runtime = { url: runtimeFile.url, pid: runtimeFile.pid, port: runtimeFile.port };
      else if (record) runtime = { url: urlOf(record.port), pid: record.pid, port: record.port };
      const exit = exits.get(id);
      const rssMb = pid === null ? undefined : rssMbOf(pid);
      return {
        alive: pid !== null,
        runtime,
        ...(rssMb === undefined ? {} : { rssMb }),
        lastLogLines: lastLogLines(dir, 20),
        ...(pid === null && exit && exit.pid === record?.pid ? { exitCode: exit.code } : {}),
      };
    },
    adopt: (id) => adopt(id),
    prewarm(spec, count) {
      pool.warm(commandOf(spec.version), envOf(spec), count, PREWARM_TTL_MS);
    },
    /**
     * Ready is the gateway's own signal: it writes its runtime file once it
     * is ready (runtime-signal.ts), so the manager neither polls /readyz nor
     * waits out a probe interval.
     */
    async waitForReady(id, timeoutMs) {
      const dir = dirOf(id);
      const pid = livePid(id);
      if (pid === null) throw new AppError('INTERNAL', 'the gateway exited before it became ready');
      const deadline = performance.now() + timeoutMs;
      const runtime = await waitForRuntimeFile(dir, pid, {
        gaveUp: () => performance.now() > deadline || !isProcessAlive(pid),
        ...(opts.pollMs ? { pollMs: opts.pollMs } : {}),
      });
      if (runtime) return;
      if (!isProcessAlive(pid)) throw new AppError('INTERNAL', 'the gateway exited before it became ready');
      throw new AppError('TIMEOUT', `the gateway did not become ready within ${timeoutMs} ms`);
    },
    onExit(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      await pool.close();
      listeners.clear();
    },
  };
}

/**
 * The per-instance memory cap: V8's old space at three quarters of the
 * instance's limit (the rest is code, buffers and native memory), so a
 * runaway heap ends in V8's own out-of-memory before the supervisor's RSS
 * limit (which restarts gracefully first) is far behind.
 */
export function heapCapMb(memoryLimitMb: number): number {
  return Math.max(64, Math.floor((memoryLimitMb * 3) / 4));
}

/** NODE_OPTIONS with --max-old-space-size set for this instance (any earlier one replaced). */
export function withHeapCap(nodeOptions: string | undefined, memoryLimitMb: number): string {
  const rest = (nodeOptions ?? '').split(/\s+/).filter((o) => o !== '' && !o.startsWith('--max-old-space-size'));
  return [...rest, `--max-old-space-size=${heapCapMb(memoryLimitMb)}`].join(' ');
}
