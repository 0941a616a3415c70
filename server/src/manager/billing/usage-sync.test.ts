/**
 * Usage aggregation on a real manager database (SQLite or PostgreSQL) from a
 * real gateway store: every usage row counted exactly once per billing
 * period — after a re-sync, a crash between pull and commit, a commit that
 * fails half way, a page delivered twice, or two rounds at once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '@autoclaw/shared';
import type { UsagePage } from '@autoclaw/shared';
import { openStore } from '../../store';
import type { Store } from '../../store';
import { dumpTables, openManagerDb } from '../db';
import type { ManagerDb } from '../db';
import { createTestDatabase, testEngine } from '../db/test-db';
import type { TestDatabase } from '../db/test-db';
import { silentLogger } from '../gateway-parts';
import { migrateBilling } from './schema';
import { createUsageSync } from './usage-sync';
import type { BillingPeriodUsage, UsageSync } from './usage-sync';

const SOURCE = { instanceId: 'inst_a', account: 'ann@example.com' };
const MODELS = [
  ['anthropic', 'claude-sonnet-4-6', 3_000],
  ['openai', 'gpt-4o-mini', 150],
  ['openai-compatible', 'llama3.1', null],
] as const;
const NOV = Date.UTC(2026, 10, 30, 23, 0); // the last hour of November (UTC)

describe(`usage aggregation for billing (${testEngine()})`, () => {
  let dir: string;
  let database: TestDatabase;
  let db: ManagerDb;
  let gateway: Store;
  let clock: number;
  let pulls: number;
  let sync: UsageSync;

  const makeSync = (pageSize = 7) =>
    createUsageSync({
      db,
      now: () => 1_800_000_000_000,
      logger: silentLogger,
      sources: async () => [SOURCE],
      pull: async (_id, after, limit) => {
        pulls += 1;
        return gateway.usagePage(after, limit);
      },
      pageSize,
    });

  /** `n` calls, 10 minutes apart from `clock` on, cycling through the models. */
  function spend(n: number): void {
    const session = gateway.createSession({ name: `billing ${clock}` });
    for (let i = 0; i < n; i++) {
      const [provider, model, cost] = MODELS[i % MODELS.length]!;
      clock += 600_000;
      gateway.recordUsage({
        sessionId: session.id,
        messageId: null,
        provider,
        model,
        usage: { inputTokens: 1_000 + i, outputTokens: 200 + i, cacheReadTokens: i % 3, cacheWriteTokens: i % 2 },
        costMicros: cost === null ? null : cost + i,
      });
    }
  }

  /** What the gateway's rows add up to per period and model: the figures billing must hold. */
  function expected(): BillingPeriodUsage[] {
    const out = new Map<string, BillingPeriodUsage>();
    for (const r of gateway.usagePage(0, 1_000).rows) {
      const period = new Date(r.createdAt).toISOString().slice(0, 7);
      const key = `${period}|${r.provider}|${r.model}`;
      const e = out.get(key) ?? { period, provider: r.provider, model: r.model, calls: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costMicros: 0, unpricedCalls: 0 };
      e.calls += 1;
      e.inputTokens += r.inputTokens;
      e.outputTokens += r.outputTokens;
      e.cacheReadTokens += r.cacheReadTokens;
      e.cacheWriteTokens += r.cacheWriteTokens;
      if (r.costMicros === null) e.unpricedCalls += 1;
      else e.costMicros += r.costMicros;
      out.set(key, e);
    }
    const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return [...out.values()].sort((a, b) => cmp(b.period, a.period) || cmp(a.provider, b.provider) || cmp(a.model, b.model));
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-billing-'));
    database = await createTestDatabase(dir);
    db = await openManagerDb(database.target);
    await migrateBilling(db);
    clock = NOV;
    gateway = openStore({ path: join(dir, 'gateway.db'), now: () => clock });
    pulls = 0;
    sync = makeSync();
  });
  afterEach(async () => {
    await sync.stop();
    gateway.close();
    await db.close();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts every row once per UTC month and model, page by page; a re-sync counts nothing again', async () => {
    spend(20); // 23:10 on 30 November onwards: the first five in November, the rest in December
    expect(await sync.syncInstance(SOURCE)).toBe(20);
    const periods = await sync.periods(SOURCE.account);
    expect(periods).toEqual(expected());
    expect(new Set(periods.map((p) => p.period))).toEqual(new Set(['2026-11', '2026-12']));
    expect(periods.find((p) => p.model === 'llama3.1' && p.period === '2026-12')).toMatchObject({ costMicros: 0 });
    expect(periods.filter((p) => p.model === 'llama3.1').reduce((n, p) => n + p.unpricedCalls, 0)).toBe(6); // every third call
    expect(await sync.cursor(SOURCE.instanceId)).toBe(20);

    const before = await dumpTables(db);
    const report = await sync.syncAll();
    expect(report).toEqual({ rows: 0, failed: [] });
    expect(await dumpTables(db)).toBe(before);

    spend(4);
    expect((await sync.syncAll()).rows).toBe(4);
    expect(await sync.periods(SOURCE.account)).toEqual(expected());
  });

  it('a crash between pull and commit: the next round pulls the same rows again and counts them once', async () => {
    spend(9);
    // Pulled, then the manager died before committing: only the database survives.
    const page = gateway.usagePage(0, 7);
    expect(page.rows).toHaveLength(7);
    await db.close();
    db = await openManagerDb(database.target);
    sync = makeSync();
    expect(await sync.cursor(SOURCE.instanceId)).toBe(0);
    expect(await sync.syncInstance(SOURCE)).toBe(9);
    expect(await sync.periods(SOURCE.account)).toEqual(expected());
  });

  it('a commit that fails half way (the lease moved on) leaves nothing; the leader after it counts once', async () => {
    spend(9);
    const before = await dumpTables(db);
    const lost = async () => {
      throw new AppError('CONFLICT', 'the leader lease moved on');
    };
    await expect(sync.syncInstance(SOURCE, lost)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await dumpTables(db)).toBe(before);
    let fenced = 0;
    expect(await sync.syncInstance(SOURCE, async () => void (fenced += 1))).toBe(9);
    expect(fenced).toBe(2); // two pages, each committed under the lease
    expect(await sync.periods(SOURCE.account)).toEqual(expected());
  });

  it('a page delivered twice, or two rounds at once, never counts a row twice', async () => {
    spend(12);
    const page = gateway.usagePage(0, 5);
    expect(await sync.commitPage(SOURCE, 0, page)).toBe(true);
    const once = await dumpTables(db);
    expect(await sync.commitPage(SOURCE, 0, page)).toBe(false);
    expect(await dumpTables(db)).toBe(once);

    const other = makeSync(3);
    const counted = await Promise.all([sync.syncInstance(SOURCE), other.syncInstance(SOURCE), sync.syncAll()]);
    expect(counted[0] + counted[1] + counted[2].rows).toBe(7);
    expect(await sync.periods(SOURCE.account)).toEqual(expected());
    expect(await sync.cursor(SOURCE.instanceId)).toBe(12);
  });

  it('refuses a page that is not what the gateway promises, and changes nothing', async () => {
    spend(4);
    const good = gateway.usagePage(0, 10);
    const before = await dumpTables(db);
    const bad: UsagePage[] = [
      { rows: [good.rows[1]!, good.rows[0]!], nextCursor: good.rows[0]!.id }, // out of order
      { rows: good.rows, nextCursor: 99 }, // cursor is not the last row
      { rows: [{ ...good.rows[0]!, inputTokens: Number.NaN }], nextCursor: good.rows[0]!.id }, // not a count
    ];
    for (const page of bad) await expect(sync.commitPage(SOURCE, 0, page)).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    // Rows at or before the cursor (a gateway replaying old rows).
    await expect(sync.commitPage(SOURCE, good.rows[1]!.id, good)).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(await dumpTables(db)).toBe(before);
  });

  it('the leader loop syncs at start and stops cleanly; an unreachable gateway is tried again next round', async () => {
    spend(3);
    let reachable = false;
    const flaky = createUsageSync({
      db,
      now: () => 1_800_000_000_000,
      logger: silentLogger,
      sources: async () => [SOURCE],
      pull: async (_id, after, limit) => {
        if (!reachable) throw new AppError('PROVIDER_UNAVAILABLE', 'the instance is unreachable');
        return gateway.usagePage(after, limit);
      },
    });
    expect(await flaky.syncAll()).toEqual({ rows: 0, failed: [SOURCE.instanceId] });
    reachable = true;
    flaky.start(async () => {});
    await flaky.stop();
    expect(await flaky.cursor(SOURCE.instanceId)).toBe(3);
    expect(await flaky.periods(SOURCE.account)).toEqual(expected());
    expect(pulls).toBe(0);
  });
});
