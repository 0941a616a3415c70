/**
 * Pooled credits on a real manager database (SQLite or PostgreSQL) and a
 * real gateway store: usage is debited with the margin exactly once per
 * counted row (re-sync, a commit that fails, a page delivered twice), in
 * integer micro-dollars; running out puts a $0 plan cap with the reason on
 * the gateway, a credit lifts it; BYOK accounts are not debited; the monthly
 * reset lets unused credit expire once per month. (The gateway's notice of
 * the pause is checked with a real gateway in billing-sync.test.ts.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '@autoclaw/shared';
import { openStore } from '../../store';
import type { Store } from '../../store';
import { dumpTables, openManagerDb } from '../db';
import type { ManagerDb } from '../db';
import { createTestDatabase, testEngine } from '../db/test-db';
import type { TestDatabase } from '../db/test-db';
import { silentLogger } from '../gateway-parts';
import { ensureBillingAccount } from './account-state';
import { createCredits, CREDITS_OUT_REASON, debitOf } from './credits';
import type { Credits, CreditSettings } from './credits';
import { migrateBilling } from './schema';
import { createUsageSync } from './usage-sync';
import type { UsageSync } from './usage-sync';

const ANN = 'ann@example.com';
const SOURCE = { instanceId: 'inst_a', account: ANN };
const DEC = Date.UTC(2026, 11, 6, 12, 0);

describe('debitOf', () => {
  it('is cost × (1 + margin) rounded up to the micro-dollar, exactly, at any size', () => {
    expect(debitOf(1_000, 2_000)).toBe(1_200);
    expect(debitOf(1, 2_000)).toBe(2); // 1.2 rounds up
    expect(debitOf(3, 0)).toBe(3);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e12 }), fc.integer({ min: 0, max: 100_000 }), (cost, bps) => {
        const d = debitOf(cost, bps);
        const exact = (BigInt(cost) * BigInt(10_000 + bps) + 9_999n) / 10_000n;
        return Number.isSafeInteger(d) && BigInt(d) === exact && d >= cost;
      }),
    );
  });
});

describe(`credits debited from aggregated usage (${testEngine()})`, () => {
  let dir: string;
  let database: TestDatabase;
  let db: ManagerDb;
  let gateway: Store;
  let clock: number;
  let credits: Credits;
  let sync: UsageSync;
  let capCalls: number;
  let failFence: boolean;

  function make(settings: CreditSettings): void {
    credits = createCredits({
      db,
      now: () => clock,
      logger: silentLogger,
      settings,
      sources: async () => [SOURCE],
      owned: async () => [SOURCE.instanceId],
      setPlanCaps: async (_id, caps) => {
        capCalls += 1;
        return gateway.setPlanCaps(caps, { actor: 'manager' });
      },
    });
    sync = createUsageSync({
      db,
      now: () => clock,
      logger: silentLogger,
      sources: async () => [SOURCE],
      pull: async (_id, after, limit) => gateway.usagePage(after, limit),
      pageSize: 4,
      onPage: (t, source, page) => credits.debitPage(t, source, page),
    });
  }

  /** `n` priced calls (cost 1_000 + i micro-dollars) and one unpriced. */
  function spend(n: number): number {
    clock += 60_000;
    const session = gateway.createSession({ name: `s ${clock}` });
    let total = 0;
    for (let i = 0; i < n; i++) {
      gateway.recordUsage({ sessionId: session.id, messageId: null, provider: 'anthropic', model: 'claude-sonnet-4-6', usage: { inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0 }, costMicros: 1_000 + i });
      total += 1_000 + i;
    }
    gateway.recordUsage({ sessionId: session.id, messageId: null, provider: 'openai-compatible', model: 'llama3.1', usage: { inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0 }, costMicros: null });
    return total;
  }

  async function grant(reference: string, micros: number): Promise<void> {
    await db.tx(async (t) => {
      await ensureBillingAccount(t, ANN, clock);
      await t.insertInto('credit_grants').values({ reference, account: ANN, micros, event_id: `evt_${reference}`, granted_at: clock }).execute();
    });
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-credits-'));
    database = await createTestDatabase(dir);
    db = await openManagerDb(database.target);
    await migrateBilling(db);
    clock = DEC;
    gateway = openStore({ path: join(dir, 'gateway.db'), now: () => clock });
    capCalls = 0;
    failFence = false;
    make({ marginBps: 2_000, monthlyReset: false });
  });
  afterEach(async () => {
    await sync.stop();
    gateway.close();
    await db.close();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('debits each priced row once with the margin, whatever is re-synced, re-delivered or rolled back', async () => {
    await grant('cs_1', 1_000_000);
    spend(10); // 11 rows: pages of 4, 4, 3
    const expected = Array.from({ length: 10 }, (_, i) => debitOf(1_000 + i, 2_000)).reduce((a, b) => a + b, 0);

    // A commit that fails at its very end (the lease was lost) leaves nothing: no rows counted, nothing debited.
    const fence = async () => {
      if (failFence) throw new AppError('CONFLICT', 'lost the lead');
    };
    failFence = true;
    const before = await dumpTables(db);
    await expect(sync.syncInstance(SOURCE, fence)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await dumpTables(db)).toBe(before);
    failFence = false;

    expect(await sync.syncInstance(SOURCE, fence)).toBe(11);
    expect(await credits.balance(ANN)).toBe(1_000_000 - expected);
    // Re-syncs and a page delivered again change nothing.
    await sync.syncAll();
    const again = gateway.usagePage(0, 4);
    expect(await sync.commitPage(SOURCE, 0, again)).toBe(false);
    expect(await credits.balance(ANN)).toBe(1_000_000 - expected);
    const debits = await db.k.selectFrom('credit_debits').selectAll().execute();
    expect(debits.map((d) => d.kind)).toEqual(['usage', 'usage', 'usage']);
    expect(debits.reduce((n, d) => n + Number(d.micros), 0)).toBe(expected);
  });

  it('running out pauses the instance with a $0 plan cap and the reason; a credit lifts it; BYOK is never debited', async () => {
    await grant('cs_small', 5_000);
    spend(6);
    await sync.syncAll();
    expect(await credits.balance(ANN)).toBeLessThan(0);
    await credits.enforce();
    expect(gateway.budgetStatus().plan).toMatchObject({ dailyMicros: 0, monthlyMicros: 0, reason: CREDITS_OUT_REASON });
    // What the chat shows when the next call is refused names the reason.
    let refusal: unknown;
    try {
      gateway.reserveBudget({ bootId: 'boot', sessionId: null, micros: 10, tokens: 10 });
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toMatchObject({ code: 'BUDGET_EXCEEDED', message: expect.stringContaining(CREDITS_OUT_REASON) });
    // Further rounds do not call the gateway again.
    await credits.enforce();
    expect(capCalls).toBe(1);

    await grant('cs_big', 10_000_000);
    await credits.enforce({ account: ANN });
    expect(gateway.budgetStatus().plan).toMatchObject({ dailyMicros: null, monthlyMicros: null, reason: null });
    expect(capCalls).toBe(2);

    // BYOK: usage counted, nothing debited, never paused.
    await credits.setByok(ANN, true);
    const balance = await credits.balance(ANN);
    spend(3);
    expect((await sync.syncAll()).rows).toBe(4);
    expect(await credits.balance(ANN)).toBe(balance);
  });

  it('the credit left is the gateway\'s own hard cap from the sync cursor: over it is refused before a sync, and a top-up raises it', async () => {
    await grant('cs_dime', 100_000); // $0.10
    await credits.enforce();
    // $0.10 at a 20 % margin buys $0.083333 of AI cost.
    expect(gateway.budgetStatus().plan).toMatchObject({ dailyMicros: null, monthlyMicros: null, creditMicros: 83_333, creditAfter: 0 });
    const hold = (micros: number) => gateway.holdBudget({ bootId: 'boot', sessionId: null, micros, tokens: 10 });
    let refused: unknown;
    try {
      hold(90_000);
    } catch (err) {
      refused = err;
    }
    expect(refused).toMatchObject({ code: 'BUDGET_EXCEEDED', details: { cap: 'credit', source: 'plan', remainingMicros: 83_333, neededMicros: 90_000 } });
    // Spent since the cursor counts at once, with no sync in between.
    spend(20); // 20 calls of $0.001…$0.001019 = 20_190 micros, and one unpriced
    expect(() => hold(63_144)).toThrow(AppError);
    gateway.releaseBudget(hold(63_143));
    // A sync debits them and moves the cursor: the gateway's room stays the same (less the debits'
    // rounding up, a micro-dollar a page), never counted twice.
    await sync.syncAll();
    await credits.enforce();
    const plan = gateway.budgetStatus().plan;
    expect(plan.creditAfter).toBe(21);
    expect(plan.creditMicros).toBeGreaterThanOrEqual(63_143 - 10);
    expect(plan.creditMicros).toBeLessThanOrEqual(63_143);
    // A top-up (the webhook's enforce for the account) raises it.
    await grant('cs_more', 1_000_000);
    await credits.enforce({ account: ANN });
    gateway.releaseBudget(hold(800_000));
    // BYOK: no credit cap at all.
    await credits.setByok(ANN, true);
    await credits.enforce({ account: ANN });
    expect(gateway.budgetStatus().plan).toMatchObject({ creditMicros: null, creditAfter: null });
  });

  /** Two gateways of one account (A is `gateway`); `live` is who the manager reaches, `down` whose push fails. */
  function twoInstances() {
    const other = openStore({ path: join(dir, 'gateway-b.db'), now: () => clock });
    const B = { instanceId: 'inst_b', account: ANN };
    const stores = new Map([[SOURCE.instanceId, gateway], [B.instanceId, other]]);
    const kit = {
      other,
      B,
      live: [SOURCE, B],
      /** The account's instances that exist, asleep or not. */
      owned: [SOURCE.instanceId, B.instanceId],
      down: new Set<string>(),
      /** A manager's credits part; a second call is the same manager after a restart (nothing kept in memory). */
      manager: (): Credits =>
        createCredits({
          db,
          now: () => clock,
          logger: silentLogger,
          settings: { marginBps: 2_000, monthlyReset: false },
          sources: async () => kit.live,
          owned: async () => kit.owned,
          setPlanCaps: async (id, caps) => {
            if (kit.down.has(id)) throw new Error('connect ECONNREFUSED');
            return stores.get(id)!.setPlanCaps(caps, { actor: 'manager' });
          },
        }),
      /** Holds on `store` as much as it lets through (in $0.001 steps, then the rest to the micro-dollar). */
      fill: (store: Store): number => {
        let held = 0;
        for (const step of [1_000, 1]) {
          for (;;) {
            try {
              store.holdBudget({ bootId: 'boot', sessionId: null, micros: step, tokens: 1 });
              held += step;
            } catch (err) {
              expect(err).toMatchObject({ code: 'BUDGET_EXCEEDED', details: { cap: 'credit' } });
              break;
            }
          }
        }
        return held;
      },
      /** What the account has left, at cost. */
      atCost: async () => Math.floor((Math.max(0, await credits.balance(ANN)) * 10_000) / 12_000),
    };
    return kit;
  }

  it('two instances of one account share its credit: together they cannot spend more than it, live or asleep', async () => {
    const kit = twoInstances();
    const shared = kit.manager();
    const pull = createUsageSync({
      db,
      now: () => clock,
      logger: silentLogger,
      sources: async () => kit.live,
      pull: async (id, after, limit) => (id === SOURCE.instanceId ? gateway : kit.other).usagePage(after, limit),
      pageSize: 50,
      onPage: (t, source, page) => shared.debitPage(t, source, page),
    });
    try {
      await grant('cs_two', 100_000); // $0.10 → $0.083333 of AI cost for the account
      await shared.enforce();
      expect(gateway.budgetStatus().plan.creditMicros! + kit.other.budgetStatus().plan.creditMicros!).toBeLessThanOrEqual(83_333);
      expect(gateway.budgetStatus().plan.creditMicros).toBe(41_666);

      // Spend on A, counted by a sync; both are pushed again from what is left.
      const spent = spend(20);
      await pull.syncAll();
      await shared.enforce();
      expect(gateway.budgetStatus().credit!.leftMicros + kit.other.budgetStatus().credit!.leftMicros).toBeLessThanOrEqual(await kit.atCost());

      // B sleeps: A's part grows only by what B cannot hold; B wakes with its old part, and together they stay within the credit.
      kit.live = [SOURCE];
      await shared.enforce();
      const left = await kit.atCost();
      expect(left).toBeLessThanOrEqual(83_333 - spent);
      const both = kit.fill(gateway) + kit.fill(kit.other);
      expect(both).toBeLessThanOrEqual(left);
      expect(both).toBeGreaterThan(left - 10);
    } finally {
      await pull.stop();
      kit.other.close();
    }
  });

  it('a restarted manager still counts the part an asleep instance holds; a deleted one\'s is free again', async () => {
    const kit = twoInstances();
    try {
      await grant('cs_restart', 100_000);
      await kit.manager().enforce();
      expect(kit.other.budgetStatus().plan.creditMicros).toBe(41_666);
      // B sleeps, then the manager restarts: the new one has nothing in memory.
      kit.live = [SOURCE];
      await kit.manager().enforce();
      expect(gateway.budgetStatus().plan.creditMicros).toBe(83_333 - 41_666);
      expect(kit.fill(gateway) + kit.fill(kit.other)).toBeLessThanOrEqual(83_333);
      // B is deleted: its part is free again.
      kit.owned = [SOURCE.instanceId];
      await kit.manager().enforce();
      expect(gateway.budgetStatus().plan.creditMicros).toBe(83_333);
    } finally {
      kit.other.close();
    }
  });

  it('an instance whose push fails keeps its old part: the others get what is left without it', async () => {
    const kit = twoInstances();
    try {
      await grant('cs_fail', 100_000);
      // A alone first: it holds the whole credit.
      kit.live = [SOURCE];
      const shared = kit.manager();
      await shared.enforce();
      expect(gateway.budgetStatus().plan.creditMicros).toBe(83_333);
      // B wakes, but A cannot be reached: A still holds its whole part, so B gets nothing yet.
      kit.live = [SOURCE, kit.B];
      kit.down.add(SOURCE.instanceId);
      await shared.enforce();
      expect(kit.other.budgetStatus().plan.creditMicros).toBe(0);
      expect(kit.fill(gateway) + kit.fill(kit.other)).toBeLessThanOrEqual(83_333);
      // A is back: the next round splits the credit again.
      kit.down.clear();
      await shared.enforce();
      expect(gateway.budgetStatus().plan.creditMicros).toBe(41_666);
      expect(kit.other.budgetStatus().plan.creditMicros).toBe(41_666);
    } finally {
      kit.other.close();
    }
  });

  it('the monthly reset lets unused credit expire once at the start of each UTC month', async () => {
    make({ marginBps: 0, monthlyReset: true });
    await grant('cs_1', 2_000_000);
    spend(1);
    await sync.syncAll();
    await credits.enforce();
    expect(await credits.balance(ANN)).toBe(2_000_000 - 1_000);
    clock = Date.UTC(2027, 0, 1, 0, 5);
    await credits.enforce();
    await credits.enforce();
    expect(await credits.balance(ANN)).toBe(0);
    const resets = await db.k.selectFrom('credit_debits').selectAll().where('kind', '=', 'reset').execute();
    expect(resets).toEqual([expect.objectContaining({ reference: `reset:${ANN}:2027-01`, micros: 1_999_000 })]);
    // Used up: paused until the next top-up.
    expect(gateway.budgetStatus().plan.monthlyMicros).toBe(0);
  });
});
