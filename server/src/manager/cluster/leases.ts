/**
 * Leases in the database: a named right to do some work, held by one
 * replica until it expires unless renewed. Each change of hands increments
 * the lease's fencing token; a write done under a lease checks, in its own
 * transaction, that the lease still has that token and holder — so a
 * replica that lost its lease (paused, partitioned, too slow to renew)
 * cannot write as if it still held it.
 */
import { AppError } from '@autoclaw/shared';
import { migratePart } from '../db';
import type { Executor, ManagerDb } from '../db';
import type { LeasesTable } from './schema';
import { CLUSTER_MIGRATIONS, CLUSTER_PART } from './schema';

export interface Lease {
  name: string;
  holder: string;
  token: number;
  expiresAt: number;
}

export interface Leases {
  /**
   * Takes `name` for `holder` when nobody holds it, its holder let it
   * expire, or `canSteal(holder)` says the holder is gone; renews it when
   * `holder` holds it already. Null when another live holder has it.
   */
  acquire(name: string, holder: string, ttlMs: number, canSteal?: (holder: string) => boolean): Promise<Lease | null>;
  /** Extends a held lease; null when it changed hands (or lapsed and was taken). */
  renew(lease: Lease, ttlMs: number): Promise<Lease | null>;
  release(lease: Lease): Promise<void>;
  /** The lease as stored (live or not), or null. */
  get(name: string): Promise<Lease | null>;
  /** Inside a transaction: CONFLICT unless `lease` is still current (same holder and token, not expired). */
  assertHeld(t: Executor, lease: Lease): Promise<void>;
  /** Whether someone other than `holder` holds `name` now (and is not known to be gone). */
  heldByOther(name: string, holder: string, isGone?: (holder: string) => boolean): Promise<boolean>;
}

const toLease = (row: LeasesTable): Lease => ({ name: row.name, holder: row.holder, token: row.token, expiresAt: row.expires_at });

export function staleLease(lease: Lease): AppError {
  return new AppError('CONFLICT', `the lease "${lease.name}" moved on (fencing token ${lease.token} is stale); the write was refused`, {
    details: { lease: lease.name, token: lease.token },
  });
}

/** Whether `err` is a write refused because its lease (fencing token) moved on. */
export function isStaleLease(err: unknown): boolean {
  return AppError.is(err, 'CONFLICT') && err.details !== undefined && 'lease' in err.details && 'token' in err.details;
}

export function createLeases(db: ManagerDb, now: () => number): Leases {
  const lockName = (name: string) => `lease:${name}`;
  const read = (t: Executor, name: string) => t.selectFrom('leases').selectAll().where('name', '=', name).executeTakeFirst();

  return {
    async acquire(name, holder, ttlMs, canSteal) {
      return db.tx(async (t) => {
        await db.lock(t, lockName(name));
        const at = now();
        const row = await read(t, name);
        if (!row) {
          const fresh = { name, holder, token: 1, acquired_at: at, expires_at: at + ttlMs };
          await t.insertInto('leases').values(fresh).execute();
          return toLease(fresh);
        }
        const live = row.expires_at > at;
        if (row.holder === holder && live) {
          await t.updateTable('leases').set({ expires_at: at + ttlMs }).where('name', '=', name).execute();
          return { ...toLease(row), expiresAt: at + ttlMs };
        }
        if (live && !canSteal?.(row.holder)) return null;
        const taken = { holder, token: row.token + 1, acquired_at: at, expires_at: at + ttlMs };
        await t.updateTable('leases').set(taken).where('name', '=', name).execute();
        return { name, holder, token: taken.token, expiresAt: taken.expires_at };
      });
    },

    async renew(lease, ttlMs) {
      return db.tx(async (t) => {
        await db.lock(t, lockName(lease.name));
        const at = now();
        const row = await read(t, lease.name);
        if (!row || row.holder !== lease.holder || row.token !== lease.token) return null;
        await t.updateTable('leases').set({ expires_at: at + ttlMs }).where('name', '=', lease.name).execute();
        return { ...lease, expiresAt: at + ttlMs };
      });
    },

    async release(lease) {
      // Expire it now (the row and its token stay, so the next holder's token is still higher).
      await db.tx(async (t) => {
        await db.lock(t, lockName(lease.name));
        await t
          .updateTable('leases')
          .set({ expires_at: 0 })
          .where('name', '=', lease.name)
          .where('holder', '=', lease.holder)
          .where('token', '=', lease.token)
          .execute();
      });
    },

    async get(name) {
      const row = await read(db.k, name);
      return row ? toLease(row) : null;
    },

    async assertHeld(t, lease) {
      await db.lock(t, lockName(lease.name));
      const row = await read(t, lease.name);
      if (!row || row.holder !== lease.holder || row.token !== lease.token || row.expires_at <= now()) throw staleLease(lease);
    },

    async heldByOther(name, holder, isGone) {
      const row = await read(db.k, name);
      return row !== undefined && row.holder !== holder && row.expires_at > now() && !isGone?.(row.holder);
    },
  };
}

/** The leases of a database opened outside a manager (an operator command), its tables migrated. */
export async function openLeases(db: ManagerDb, now: () => number): Promise<Leases> {
  await migratePart(db, CLUSTER_PART, CLUSTER_MIGRATIONS);
  return createLeases(db, now);
}
