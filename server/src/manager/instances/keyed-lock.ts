/**
 * One operation at a time per instance: start, stop, restart and delete
 * never interleave — within this process (a promise chain per key) and,
 * given the leases, across replicas: the operation holds the lease
 * `instance:<id>` (renewed while it runs), and another replica waits for it.
 */
import { AppError } from '@autoclaw/shared';
import { holderIsGone } from '../cluster';
import type { Lease, Leases } from '../cluster';

export interface KeyedLock {
  run<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** Busy in this process. */
  isBusy(key: string): boolean;
  /** Busy in this process or in another replica. */
  isBusyAnywhere(key: string): Promise<boolean>;
}

export interface KeyedLockOptions {
  leases: Leases;
  /** This replica's id. */
  holder: string;
  /** A holder that stops renewing (it died) loses the lock after this long (default 15 s). */
  ttlMs?: number;
  /** How long to wait for another replica's operation (default 2 minutes). */
  waitMs?: number;
  pollMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const leaseName = (key: string) => `instance:${key}`;

export function createKeyedLock(shared?: KeyedLockOptions): KeyedLock {
  const tails = new Map<string, Promise<unknown>>();
  const depth = new Map<string, number>();
  const ttlMs = shared?.ttlMs ?? 15_000;

  /** fn while holding the instance's lease, renewed every third of its lifetime. */
  async function withLease<T>(key: string, fn: () => Promise<T>): Promise<T> {
    if (!shared) return fn();
    const { leases, holder } = shared;
    const deadline = performance.now() + (shared.waitMs ?? 120_000);
    let lease: Lease | null = null;
    // A holder that died on this machine (kill -9) is not waited for.
    while (!(lease = await leases.acquire(leaseName(key), holder, ttlMs, holderIsGone))) {
      if (performance.now() > deadline) throw new AppError('CONFLICT', `another manager replica is still working on instance ${key}; try again`);
      await sleep(shared.pollMs ?? 100);
    }
    let held: Lease = lease;
    const timer = setInterval(() => {
      void leases
        .renew(held, ttlMs)
        .then((renewed) => {
          if (renewed) held = renewed;
        })
        .catch(() => undefined);
    }, Math.max(50, Math.floor(ttlMs / 3)));
    try {
      return await fn();
    } finally {
      clearInterval(timer);
      await leases.release(held).catch(() => undefined);
    }
  }

  return {
    run(key, fn) {
      const prev = tails.get(key) ?? Promise.resolve();
      depth.set(key, (depth.get(key) ?? 0) + 1);
      const step = () => withLease(key, fn);
      const result = prev.then(step, step);
      const tail = result.then(
        () => undefined,
        () => undefined,
      );
      tails.set(key, tail);
      void tail.then(() => {
        const left = (depth.get(key) ?? 1) - 1;
        if (left === 0) {
          depth.delete(key);
          tails.delete(key);
        } else {
          depth.set(key, left);
        }
      });
      return result;
    },
    isBusy(key) {
      return (depth.get(key) ?? 0) > 0;
    },
    async isBusyAnywhere(key) {
      if ((depth.get(key) ?? 0) > 0) return true;
      return shared ? shared.leases.heldByOther(leaseName(key), shared.holder, holderIsGone) : false;
    },
  };
}
