/**
 * Leases and the leader election on a real database (SQLite or PostgreSQL):
 * one holder at a time, a fencing token that grows with every change of
 * hands, writes refused once their lease moved on, and two replicas' loops
 * handing the lead over when the leader stops answering — never two leaders
 * at once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openManagerDb } from '../db';
import type { ManagerDb } from '../db';
import { createTestDatabase, testEngine } from '../db/test-db';
import type { TestDatabase } from '../db/test-db';
import { waitFor } from '../drivers/local/test-support';
import { silentLogger } from '../gateway-parts';
import { createLeadership } from './leadership';
import type { Leadership } from './leadership';
import { isStaleLease, openLeases } from './leases';
import type { Lease, Leases } from './leases';

describe(`leases (${testEngine()})`, () => {
  let dir: string;
  let database: TestDatabase;
  let db: ManagerDb;
  let clock: number;
  let leases: Leases;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-leases-'));
    database = await createTestDatabase(dir);
    db = await openManagerDb(database.target);
    clock = 1_700_000_000_000;
    leases = await openLeases(db, () => clock);
  });
  afterEach(async () => {
    await db.close();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('one holder at a time; the token grows with every change of hands, not with renewals', async () => {
    const a = await leases.acquire('leader', 'a', 5_000);
    expect(a).toEqual({ name: 'leader', holder: 'a', token: 1, expiresAt: clock + 5_000 });
    expect(await leases.acquire('leader', 'b', 5_000)).toBeNull();
    clock += 3_000;
    expect(await leases.renew(a!, 5_000)).toEqual({ ...a, expiresAt: clock + 5_000 });
    expect(await leases.acquire('leader', 'a', 5_000)).toMatchObject({ token: 1 });
    // a stops renewing: once its lease lapsed, b takes it with a higher token, and a cannot renew.
    clock += 5_001;
    const b = await leases.acquire('leader', 'b', 5_000);
    expect(b).toMatchObject({ holder: 'b', token: 2 });
    expect(await leases.renew(a!, 5_000)).toBeNull();
    // A holder known to be gone (its process died on this machine) is taken over at once.
    expect(await leases.acquire('leader', 'c', 5_000, (holder) => holder === 'b')).toMatchObject({ holder: 'c', token: 3 });
    // Releasing hands it on at once, and the token still grows.
    const c = (await leases.get('leader'))!;
    await leases.release(c);
    expect(await leases.acquire('leader', 'd', 5_000)).toMatchObject({ holder: 'd', token: 4 });
  });

  it('a write fenced by a lease that moved on is refused, and nothing of it is written', async () => {
    await db.k.schema.createTable('fenced_writes').ifNotExists().addColumn('what', 'text').execute();
    const a = (await leases.acquire('leader', 'a', 5_000))!;
    const write = (lease: Lease, what: string) =>
      db.tx(async (t) => {
        await leases.assertHeld(t, lease);
        await t.insertInto('fenced_writes' as never).values({ what } as never).execute();
      });
    await write(a, 'while a leads');
    clock += 6_000;
    const b = (await leases.acquire('leader', 'b', 5_000))!;
    const refused = await write(a, 'a, paused, wakes up').then(
      () => null,
      (err: unknown) => err,
    );
    expect(isStaleLease(refused)).toBe(true);
    expect(refused).toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/fencing token 1 is stale/) });
    await write(b, 'b leads');
    const rows = await db.k.selectFrom('fenced_writes' as never).selectAll().execute();
    expect(rows.map((r) => (r as { what: string }).what)).toEqual(['while a leads', 'b leads']);
  });

  it('the leader loop: the other replica takes over when the leader stops answering, never while it still acts', async () => {
    // Real (short) timings: these are the replicas' own loops.
    const realLeases = await openLeases(db, Date.now);
    let frozen = false;
    /** What a replica that froze (a stopped process, a lost network) looks like to its loop: calls that never answer. */
    const freezable: Leases = {
      ...realLeases,
      acquire: (...args) => (frozen ? new Promise(() => {}) : realLeases.acquire(...args)),
      renew: (...args) => (frozen ? new Promise(() => {}) : realLeases.renew(...args)),
    };
    const log: string[] = [];
    const loops: { a?: Leadership; b?: Leadership } = {};
    const make = (name: string, source: Leases) =>
      createLeadership({
        leases: source,
        name: 'leader',
        holder: name,
        ttlMs: 600,
        renewEveryMs: 150,
        pollEveryMs: 50,
        now: Date.now,
        logger: silentLogger,
        async onGain(lease) {
          // The other one must not be acting when this one starts.
          const other = name === 'a' ? loops.b : loops.a;
          log.push(`${name} gains token ${lease.token} (other acting: ${other !== undefined && other.current() !== null})`);
        },
        async onLose(reason) {
          log.push(`${name} loses: ${reason}`);
        },
      });
    const a = (loops.a = make('a', freezable));
    const b = (loops.b = make('b', realLeases));
    try {
      expect(await a.start()).toBe(true);
      expect(await b.start()).toBe(false);
      expect(a.current()).toMatchObject({ holder: 'a', token: 1 });
      frozen = true;
      await waitFor('b to lead', () => b.current(), 10_000);
      expect(b.current()).toMatchObject({ holder: 'b', token: 2 });
      expect(a.current()).toBeNull();
      expect(log).toEqual(['a gains token 1 (other acting: false)', expect.stringMatching(/^a loses: the (lease could not be renewed|database did not answer) in time$/), 'b gains token 2 (other acting: false)']);
      // b stopping releases the lease: a (answering again) takes it at once.
      frozen = false;
      await b.stop();
      await waitFor('a to lead again', () => a.current(), 10_000);
      expect(a.current()).toMatchObject({ holder: 'a', token: 3 });
    } finally {
      frozen = false;
      await a.stop();
      await b.stop();
    }
  });
});
