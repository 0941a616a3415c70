/**
 * What the instance service's parts share: the repository, the driver, the
 * keys, the per-instance lock, and the two steps every lifecycle operation
 * is made of — building a gateway's spec (the data key unwrapped only for
 * the driver call) and bringing a started gateway to `running`.
 */
import type { Instance, InstanceState } from '@autoclaw/shared';
import { AppError } from '@autoclaw/shared';
import type { AuditAppend } from '../audit';
import type { ManagerDb } from '../db';
import type { Leases } from '../cluster';
import type { InstanceDriver, InstanceRuntime, InstanceSpec } from '../drivers/types';
import type { Logger } from '../gateway-parts';
import { unwrapDataKey } from '../keys';
import type { ManagerKeys } from '../keys';
import type { GatewayLink } from './gateway-link';
import type { KeyedLock } from './keyed-lock';
import type { Fence, InstanceRepository, InstanceRow, RemoveWith } from './repository';
import { canTransition } from './state-machine';

export type InstanceKeys = Pick<ManagerKeys, 'publicKey' | 'sign' | 'masterKey'>;

export interface InstanceServiceDeps {
  db: ManagerDb;
  driver: InstanceDriver;
  keys: InstanceKeys;
  audit?: { append(entry: AuditAppend): Promise<unknown> };
  /** Rows other parts keep per instance (the door's last use), removed in the instance's delete transaction. */
  removeWith?: RemoveWith;
  now?: () => number;
  logger?: Logger;
  /** Origins every gateway accepts besides its own (the manager's UI, the desktop app's scheme); a function is read at each start. */
  allowedOrigins?: string[] | (() => string[]);
  /** Memory limit of new instances in MiB (default 512). */
  memoryLimitMb?: number;
  /** Environment for gateways (provider base URLs, model); never secrets. */
  gatewayEnv?: Record<string, string>;
  /** New instances are provisioned asleep: storage and keys made, no gateway started until a client connects. */
  provisionAsleep?: boolean;
  /** How long a started gateway may take to answer /readyz (default 15 s). */
  readyTimeoutMs?: number;
  /** Gateway version to run. */
  version?: string;
  /** The version an instance runs now (its release, set by updates); null: `version`. */
  versionOf?: (instanceId: string) => Promise<string | null>;
  /** The pinned image of a version's signed release (Kubernetes: `IMAGE@sha256:…`); null: the driver's image at that version. */
  imageOf?: (version: string) => Promise<string | null>;
  /** The URL a user's device reaches an instance at (e.g. its Tailscale Serve name); default the driver's URL. */
  deviceUrlOf?: (instance: Instance) => string | null;
  /** With Tailscale: whose requests through Serve an owner's gateway accepts (see InstanceSpec.tailscale). */
  tailscaleOf?: (ownerEmail: string) => InstanceSpec['tailscale'];
  /**
   * Several replicas: operations on one instance hold its lease (`instance:<id>`),
   * so replicas never act on the same instance at once. Without it, only in this process.
   */
  locks?: { leases: Leases; holder: string };
}

export interface Core {
  repo: InstanceRepository;
  driver: InstanceDriver;
  keys: InstanceKeys;
  link: GatewayLink;
  lock: KeyedLock;
  now: () => number;
  logger: Logger;
  audit(entry: AuditAppend): Promise<void>;
  specOf(row: InstanceRow): InstanceSpec;
  /** Runs a driver call with the spec, wiping the data key afterwards. */
  withSpec<T>(row: InstanceRow, fn: (spec: InstanceSpec) => Promise<T>): Promise<T>;
  /** `spec` at another version (its release's pinned image with it). */
  atVersion(spec: InstanceSpec, version: string): Promise<InstanceSpec>;
  /** Waits for /readyz, then moves the instance to `running` with its runtime. */
  becomeRunning(id: string, runtime: InstanceRuntime, reason: string, fence?: Fence, origins?: string[]): Promise<InstanceRow>;
  /** Moves to `failed` with the error and the gateway's last log lines (no-op when already gone). */
  fail(id: string, err: unknown, what: string): Promise<void>;
  deviceUrlOf(instance: Instance): string | null;
  readyTimeoutMs: number;
  /** Aborted when the manager closes: waits for readiness end with CANCELLED, and the instance stays as it is for the next start to resume. */
  shutdown: AbortController;
}

/** A wait cut short because the manager is closing (not a failure of the instance). */
export function isShutdown(err: unknown): boolean {
  return AppError.is(err, 'CANCELLED');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function runtimePatch(runtime: InstanceRuntime) {
  return { url: runtime.url, pid: runtime.pid ?? null, port: runtime.port ?? null };
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Polls /readyz until it answers 200; fails early when the process is gone. */
export async function waitReady(driver: InstanceDriver, id: string, url: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (let i = 0; ; i++) {
    if (signal?.aborted) throw shutdownError();
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new AppError('TIMEOUT', `the gateway did not become ready within ${timeoutMs} ms`);
    if (i % 10 === 9 && !(await driver.status(id)).alive) throw new AppError('INTERNAL', 'the gateway exited before it became ready');
    await sleep(25);
  }
}

function shutdownError(): AppError {
  return new AppError('CANCELLED', 'the manager is shutting down');
}

/** Resolves or rejects with `p`, or rejects with CANCELLED as soon as `signal` aborts (`p` is then left to settle unobserved). */
function unlessAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  p.catch(() => undefined);
  if (signal.aborted) return Promise.reject(shutdownError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(shutdownError());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export function makeCore(deps: InstanceServiceDeps, parts: { repo: InstanceRepository; link: GatewayLink; lock: KeyedLock; logger: Logger }): Core {
  const { driver, keys } = deps;
  const now = deps.now ?? Date.now;
  const readyTimeoutMs = deps.readyTimeoutMs ?? 15_000;
  const { repo, logger } = parts;
  const shutdown = new AbortController();
  const specOf = (row: InstanceRow): InstanceSpec => ({
    instanceId: row.id,
    ownerEmail: row.owner,
    dataKey: unwrapDataKey(keys.masterKey, row.wrapped_key, row.id),
    managerPublicKey: keys.publicKey,
    allowedOrigins: typeof deps.allowedOrigins === 'function' ? deps.allowedOrigins() : (deps.allowedOrigins ?? []),
    version: deps.version ?? 'dev',
    memoryLimitMb: row.memory_limit_mb,
    env: deps.gatewayEnv ?? {},
    ...(deps.tailscaleOf ? { tailscale: deps.tailscaleOf(row.owner) } : {}),
  });
  const core: Core = {
    ...parts,
    driver,
    keys,
    now,
    readyTimeoutMs,
    shutdown,
    async audit(entry) {
      try {
        await deps.audit?.append(entry);
      } catch (err) {
        logger.error('audit append failed', { action: entry.action, err });
      }
    },
    specOf,
    async atVersion(spec, version) {
      const { image: _image, ...rest } = spec;
      const image = deps.imageOf ? await deps.imageOf(version) : null;
      return { ...rest, version, ...(image ? { image } : {}) };
    },
    async withSpec(row, fn) {
      const release = deps.versionOf ? await deps.versionOf(row.id) : null;
      const spec = specOf(row);
      if (release !== null) spec.version = release;
      // Only where images are pinned (Kubernetes): a wake asks the local driver for its gateway before anything else waits.
      const image = deps.imageOf ? await deps.imageOf(spec.version) : null;
      if (image) spec.image = image;
      try {
        return await fn(spec);
      } finally {
        spec.dataKey.fill(0);
      }
    },
    async becomeRunning(id, runtime, reason, fence, origins) {
      if (shutdown.signal.aborted) throw shutdownError();
      const ready = driver.waitForReady ? driver.waitForReady(id, readyTimeoutMs) : waitReady(driver, id, runtime.url, readyTimeoutMs, shutdown.signal);
      await unlessAborted(ready, shutdown.signal);
      return repo.transition(id, 'running', reason, { ...runtimePatch(runtime), lastError: null, ...(origins ? { origins } : {}) }, undefined, fence);
    },
    async fail(id, err, what) {
      const row = await repo.get(id);
      if (!row) return;
      const status = await driver.status(id).catch(() => null);
      const lines = status?.lastLogLines ?? [];
      const lastError = [`${what}: ${errorText(err)}`, ...lines].join('\n');
      logger.warn('instance failed', { instanceId: id, what, err: errorText(err) });
      const from: InstanceState = row.state;
      if (!canTransition(from, 'failed')) {
        await repo.update(id, {}, { kind: 'crash', message: `${what}: ${errorText(err)}`, logLines: lines });
        return;
      }
      // A process left behind by a failed start must not run on unobserved.
      if (status?.alive) await driver.stop(id, { graceMs: 2_000 }).catch(() => undefined);
      await repo.transition(id, 'failed', `${what} failed`, { lastError });
    },
    deviceUrlOf: (instance) => (deps.deviceUrlOf ? deps.deviceUrlOf(instance) : instance.url),
  };
  return core;
}
