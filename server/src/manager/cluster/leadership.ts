/**
 * Work that must happen once (supervising instances today; scheduled backups
 * and billing sync later) runs on the replica holding the leader lease.
 * Every replica runs this loop: the leader renews its lease every
 * `renewEveryMs`; the others try to take it every `pollEveryMs`, which
 * succeeds once the leader stopped renewing for `ttlMs` (it died) or
 * released it (it stopped). `onGain` starts the once-only work with the
 * lease (its fencing token goes with every write it makes); `onLose` stops
 * it. A leader that cannot renew in time stops acting before its lease
 * lapses, so two replicas never act at once.
 */
import type { Logger } from '../gateway-parts';
import type { Lease, Leases } from './leases';

export interface LeadershipOptions {
  leases: Leases;
  /** The lease's name (one per kind of once-only work; the manager's is "leader"). */
  name: string;
  /** This replica's id. */
  holder: string;
  ttlMs: number;
  renewEveryMs: number;
  pollEveryMs: number;
  now: () => number;
  logger: Logger;
  /** May this replica take over from `holder` before the lease expires (it is known to be gone)? */
  canSteal?: (holder: string) => boolean;
  onGain(lease: Lease): Promise<void>;
  onLose(reason: string): Promise<void>;
}

export interface Leadership {
  /** The first attempt: resolves once `onGain` has finished when this replica became the leader. */
  start(): Promise<boolean>;
  /** Stops the loop; a leader runs `onLose` and releases the lease so another takes over at once. */
  stop(): Promise<void>;
  /** The lease while this replica leads and may act on it, else null. */
  current(): Lease | null;
}

export function createLeadership(opts: LeadershipOptions): Leadership {
  const { leases, name, holder, ttlMs, now, logger } = opts;
  // Stop acting this long before the lease lapses (a slow renewal must not overlap a new leader).
  const margin = Math.min(1_000, Math.floor(ttlMs / 5));
  let lease: Lease | null = null;
  let timer: NodeJS.Timeout | null = null;
  // Fires when the lease is about to lapse unrenewed: the work stops even while a renewal hangs.
  let demotion: NodeJS.Timeout | null = null;
  let stopped = false;
  let round: Promise<void> | null = null;
  // onGain and onLose run one after the other, never interleaved.
  let changes: Promise<void> = Promise.resolve();

  const valid = (l: Lease | null): l is Lease => l !== null && now() < l.expiresAt - margin;
  // A database that does not answer must not hold up the loop past the lease's life.
  const callTimeoutMs = Math.max(100, Math.floor(ttlMs / 2));

  function inTime<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the database did not answer within ${callTimeoutMs} ms`)), callTimeoutMs);
    });
    p.catch(() => undefined);
    return Promise.race([p, late]).finally(() => clearTimeout(timer));
  }

  function change(fn: () => Promise<void>): Promise<void> {
    changes = changes.then(fn).catch((err: unknown) => logger.error('leadership change failed', { lease: name, err: err instanceof Error ? err.message : String(err) }));
    return changes;
  }

  function armDemotion(): void {
    if (demotion) clearTimeout(demotion);
    demotion = null;
    if (!lease) return;
    demotion = setTimeout(() => void lose('the lease could not be renewed in time'), Math.max(0, lease.expiresAt - margin - now()));
  }

  function lose(reason: string): Promise<void> {
    if (demotion) clearTimeout(demotion);
    demotion = null;
    if (!lease) return changes;
    lease = null;
    logger.warn('no longer the leader', { lease: name, reason });
    return change(() => opts.onLose(reason));
  }

  async function once(): Promise<void> {
    if (lease) {
      if (!valid(lease)) return void (await lose('the lease could not be renewed in time'));
      try {
        const renewed = await inTime(leases.renew(lease, ttlMs));
        if (stopped) return;
        if (renewed && lease) {
          lease = renewed;
          armDemotion();
        } else if (!renewed) await lose('another replica holds the lease');
      } catch (err) {
        logger.warn('could not renew the leader lease', { lease: name, err: err instanceof Error ? err.message : String(err) });
        if (!valid(lease)) await lose('the database did not answer in time');
      }
      return;
    }
    try {
      const got = await inTime(leases.acquire(name, holder, ttlMs, opts.canSteal));
      if (!got || stopped) return;
      lease = got;
      armDemotion();
      logger.info('leader now', { lease: name, token: got.token });
      // Not awaited: renewals go on while the once-only work starts (recovery can take a while).
      void change(() => opts.onGain(got));
    } catch (err) {
      logger.warn('could not try the leader lease', { lease: name, err: err instanceof Error ? err.message : String(err) });
    }
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      round = once().finally(() => {
        round = null;
        schedule();
      });
    }, lease ? opts.renewEveryMs : opts.pollEveryMs);
  }

  return {
    async start() {
      round = once();
      await round;
      round = null;
      schedule();
      await changes;
      return lease !== null;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await round;
      const held = lease;
      await lose('the manager is stopping');
      if (held) await leases.release(held).catch(() => undefined);
    },
    current: () => (valid(lease) ? lease : null),
  };
}
