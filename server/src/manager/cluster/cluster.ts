/**
 * This replica among the others on the same database: its registry row and
 * heartbeat, the browser origins of every live replica (gateways accept
 * them all), and the leader election. With SQLite there is only ever one
 * replica: a second one on the same data directory is refused, and a
 * manager restarted after `kill -9` takes the lease over at once (the old
 * holder's pid on this host is gone) instead of waiting for it to lapse.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { AppError } from '@autoclaw/shared';
import { isPidAlive } from '../../gateway';
import { migratePart } from '../db';
import type { Fence, ManagerDb } from '../db';
import type { Logger } from '../gateway-parts';
import { createLeadership } from './leadership';
import { createLeases } from './leases';
import type { Lease, Leases } from './leases';
import { createReplicas } from './replicas';
import type { ReplicaInfo } from './replicas';
import { CLUSTER_MIGRATIONS, CLUSTER_PART } from './schema';

export const LEADER_LEASE = 'leader';

export interface ClusterTimings {
  /** A leader that stops renewing is replaced after this long. */
  leaseTtlMs: number;
  renewEveryMs: number;
  /** How often a follower tries to take the lease. */
  pollEveryMs: number;
}

/** Failover within 10 s: the lease lapses 5 s after the last renewal, a follower notices within 0.5 s. */
export const DEFAULT_CLUSTER_TIMINGS: ClusterTimings = { leaseTtlMs: 5_000, renewEveryMs: 1_500, pollEveryMs: 500 };

export interface ClusterOptions {
  db: ManagerDb;
  now: () => number;
  logger: Logger;
  timings?: Partial<ClusterTimings>;
}

/**
 * Work that must happen once, so it runs on the leader only: supervising
 * instances today; scheduled backups and billing sync next. Register it with
 * `cluster.whileLeader`: it is started when this replica becomes the leader
 * and stopped when it no longer is.
 */
export interface LeaderTask {
  readonly name: string;
  /** Starts the work; every write it makes goes through `fence` (refused once the lease moved on). */
  start(lease: Lease, fence: Fence): Promise<void>;
  stop(): Promise<void>;
}

export interface Cluster {
  readonly replicaId: string;
  readonly leases: Leases;
  /** The leader lease while this replica leads (and may act on it), else null. */
  leader(): Lease | null;
  /** Browser origins of every live replica, this one's included (refreshed with each heartbeat). */
  origins(): string[];
  /** Live replicas, as of the last heartbeat. */
  replicas(): ReplicaInfo[];
  /** Runs `task` while this replica leads (started at once when it already does); returns the unregister. */
  whileLeader(task: LeaderTask): () => void;
  /**
   * Registers this replica (once it listens) and starts the election;
   * resolves after the first attempt — and, when it won, after `onGain`.
   */
  start(self: { url: string; origins: () => string[] }): Promise<boolean>;
  stop(): Promise<void>;
}

interface Holder {
  host: string;
  pid: number;
}

function parseHolder(id: string): Holder | null {
  const [host, pid] = id.split('/');
  return host && pid && /^\d+$/.test(pid) ? { host, pid: Number(pid) } : null;
}

/**
 * A lease holder known to be gone: a process on this machine whose pid is
 * dead (holder ids are `host/pid/…`). A holder elsewhere is only known gone
 * once its lease lapses.
 */
export function holderIsGone(id: string): boolean {
  const holder = parseHolder(id);
  return holder !== null && holder.host === hostname() && !isPidAlive(holder.pid);
}

/** Another manager process alive on this machine holds the lease (SQLite: one replica only). */
function liveLocalHolder(id: string, self: string): Holder | null {
  const holder = parseHolder(id);
  if (!holder || id === self || holder.host !== hostname()) return null;
  return isPidAlive(holder.pid) ? holder : null;
}

export async function openCluster(opts: ClusterOptions): Promise<Cluster> {
  const { db, now, logger } = opts;
  await migratePart(db, CLUSTER_PART, CLUSTER_MIGRATIONS);
  const timings: ClusterTimings = { ...DEFAULT_CLUSTER_TIMINGS, ...opts.timings };
  const replicaId = `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
  const leases = createLeases(db, now);
  const registry = createReplicas(db, now);
  const sqlite = db.engine === 'sqlite';

  if (sqlite) {
    const current = await leases.get(LEADER_LEASE);
    const other = current && current.expiresAt > now() ? liveLocalHolder(current.holder, replicaId) : null;
    if (other) {
      throw new AppError(
        'CONFLICT',
        `a manager is already running on this data directory (pid ${other.pid}); SQLite serves one manager — run several replicas with --database postgres://…`,
      );
    }
  }

  const tasks: LeaderTask[] = [];
  const running = new Set<LeaderTask>();
  let leading: { lease: Lease; fence: Fence } | null = null;

  async function startTask(task: LeaderTask, lease: Lease, fence: Fence): Promise<void> {
    try {
      await task.start(lease, fence);
      running.add(task);
    } catch (err) {
      logger.error('a leader task did not start', { task: task.name, err: err instanceof Error ? err.message : String(err) });
    }
  }

  async function stopTask(task: LeaderTask): Promise<void> {
    if (!running.delete(task)) return;
    await task.stop().catch((err: unknown) => logger.error('a leader task did not stop cleanly', { task: task.name, err: err instanceof Error ? err.message : String(err) }));
  }

  const leadership = createLeadership({
    leases,
    name: LEADER_LEASE,
    holder: replicaId,
    ttlMs: timings.leaseTtlMs,
    renewEveryMs: timings.renewEveryMs,
    pollEveryMs: timings.pollEveryMs,
    now,
    logger,
    // SQLite: the previous holder can only have been a manager on this machine; once its pid is gone, take over at once.
    ...(sqlite ? { canSteal: (holder: string) => liveLocalHolder(holder, replicaId) === null } : {}),
    async onGain(lease) {
      const fence: Fence = (t) => leases.assertHeld(t, lease);
      leading = { lease, fence };
      for (const task of [...tasks]) await startTask(task, lease, fence);
    },
    async onLose() {
      leading = null;
      for (const task of [...running].reverse()) await stopTask(task);
    },
  });

  const liveWithinMs = Math.max(3 * timings.leaseTtlMs, 15_000);
  let ownOrigins: () => string[] = () => [];
  let seen: ReplicaInfo[] = [];
  let beats = 0;
  let timer: NodeJS.Timeout | null = null;
  let beating: Promise<void> | null = null;
  let stopped = false;

  async function heartbeat(): Promise<void> {
    await registry.beat(replicaId);
    seen = await registry.live(liveWithinMs);
    // Now and then, forget replicas gone for a day.
    if (beats++ % 1_000 === 0) await registry.prune(24 * 3_600_000);
  }

  function scheduleBeat(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      beating = heartbeat()
        .catch((err: unknown) => logger.warn('replica heartbeat failed', { err: err instanceof Error ? err.message : String(err) }))
        .finally(() => {
          beating = null;
          scheduleBeat();
        });
    }, timings.renewEveryMs);
  }

  return {
    replicaId,
    leases,
    leader: () => leadership.current(),
    origins() {
      const all = new Set(ownOrigins());
      for (const r of seen) for (const o of r.origins) all.add(o);
      return [...all];
    },
    replicas: () => seen,
    whileLeader(task) {
      tasks.push(task);
      if (leading) void startTask(task, leading.lease, leading.fence);
      return () => {
        tasks.splice(tasks.indexOf(task), 1);
        void stopTask(task);
      };
    },
    async start(self) {
      ownOrigins = self.origins;
      const host = hostname();
      await registry.register({ id: replicaId, url: self.url, origins: self.origins(), host, pid: process.pid, startedAt: now() });
      seen = await registry.live(liveWithinMs);
      scheduleBeat();
      return leadership.start();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await beating;
      await leadership.stop();
      await registry.remove(replicaId).catch(() => undefined);
    },
  };
}
