/**
 * Usage aggregation for billing: the leader pulls each live instance's usage
 * rows from its gateway (admin.usagePage, after a cursor) and adds them to
 * the account's billing period. A page and the cursor that follows it commit
 * in ONE transaction, and only when the cursor still is where the page was
 * pulled from — so a re-sync, a crash between pull and commit (nothing was
 * committed: the same page is pulled again) or a page delivered twice never
 * counts a row twice.
 */
import { AppError, UsagePageSchema } from '@autoclaw/shared';
import type { UsagePage, UsageRow } from '@autoclaw/shared';
import type { Executor, Fence, ManagerDb } from '../db';
import type { Logger } from '../gateway-parts';

/** An instance whose usage is billed to `account` (its owner). */
export interface UsageSource {
  instanceId: string;
  account: string;
}

export interface UsageSyncDeps {
  db: ManagerDb;
  now: () => number;
  logger: Logger;
  /** The instances to pull from (the live ones: a stopped gateway cannot answer). */
  sources: () => Promise<UsageSource[]>;
  /** One page of the instance's usage rows after `after` (the gateway's admin.usagePage). */
  pull: (instanceId: string, after: number, limit: number) => Promise<UsagePage>;
  /** Rows per page (default 500, at most 1000). */
  pageSize?: number;
  /** How often the leader syncs every instance (default 60 s). */
  everyMs?: number;
  /** Inside the transaction that counts a page (credits are debited there, so exactly once). */
  onPage?: (t: Executor, source: UsageSource, page: UsagePage) => Promise<unknown>;
  /** After each of the leader's rounds (credits: reset, pause, caps). */
  afterRound?: (fence: Fence) => Promise<void>;
}

export interface BillingPeriodUsage {
  period: string;
  provider: string;
  model: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costMicros: number;
  unpricedCalls: number;
}

export interface SyncReport {
  /** Usage rows newly counted. */
  rows: number;
  /** Instances whose gateway could not be read this round (tried again next round). */
  failed: string[];
}

export interface UsageSync {
  /** Pulls and commits every page of one instance after its cursor; returns the rows newly counted. */
  syncInstance(source: UsageSource, fence?: Fence): Promise<number>;
  /** One round over every source. */
  syncAll(fence?: Fence): Promise<SyncReport>;
  /**
   * Counts one page pulled from `after`, with the cursor, in one transaction.
   * False (and nothing changed) when the cursor is no longer `after`: the page
   * was counted already, or another round moved past it.
   */
  commitPage(source: UsageSource, after: number, page: UsagePage, fence?: Fence): Promise<boolean>;
  /** The account's usage per billing period and model, newest period first. */
  periods(account: string): Promise<BillingPeriodUsage[]>;
  /** Where the instance's cursor stands (0: nothing counted yet). */
  cursor(instanceId: string): Promise<number>;
  /** The leader's loop: a round now, then every `everyMs`; every commit through `fence`. */
  start(fence: Fence): void;
  stop(): Promise<void>;
}

/** `YYYY-MM` of an instant, in UTC: the billing period a call belongs to. */
export function billingPeriodOf(at: number): string {
  return new Date(at).toISOString().slice(0, 7);
}

/** A page is taken only when it is what admin.usagePage promises: ids after `after`, increasing, the cursor the last of them. */
function checkedPage(after: number, raw: UsagePage): UsagePage {
  const parsed = UsagePageSchema.safeParse(raw);
  if (!parsed.success) throw new AppError('PROVIDER_UNAVAILABLE', "the gateway's usage page is not readable");
  const page = parsed.data;
  let last = after;
  for (const row of page.rows) {
    if (row.id <= last) throw new AppError('PROVIDER_UNAVAILABLE', `the gateway's usage page is out of order (row ${row.id} after ${last})`);
    last = row.id;
  }
  if (page.nextCursor !== last) throw new AppError('PROVIDER_UNAVAILABLE', `the gateway's usage cursor ${page.nextCursor} is not its last row ${last}`);
  return page;
}

type Sums = Omit<BillingPeriodUsage, 'period' | 'provider' | 'model'>;

function groupRows(rows: readonly UsageRow[]): Map<string, { period: string; provider: string; model: string; sums: Sums }> {
  const groups = new Map<string, { period: string; provider: string; model: string; sums: Sums }>();
  for (const row of rows) {
    const period = billingPeriodOf(row.createdAt);
    const key = JSON.stringify([period, row.provider, row.model]);
    let g = groups.get(key);
    if (!g) {
      g = {
        period,
        provider: row.provider,
        model: row.model,
        sums: { calls: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costMicros: 0, unpricedCalls: 0 },
      };
      groups.set(key, g);
    }
    const s = g.sums;
    s.calls += 1;
    s.inputTokens += row.inputTokens;
    s.outputTokens += row.outputTokens;
    s.cacheReadTokens += row.cacheReadTokens;
    s.cacheWriteTokens += row.cacheWriteTokens;
    if (row.costMicros === null) s.unpricedCalls += 1;
    else s.costMicros += row.costMicros;
  }
  return groups;
}

async function addGroup(t: Executor, account: string, g: { period: string; provider: string; model: string; sums: Sums }): Promise<void> {
  const s = g.sums;
  await t
    .insertInto('billing_usage')
    .values({
      account,
      period: g.period,
      provider: g.provider,
      model: g.model,
      calls: s.calls,
      input_tokens: s.inputTokens,
      output_tokens: s.outputTokens,
      cache_read_tokens: s.cacheReadTokens,
      cache_write_tokens: s.cacheWriteTokens,
      cost_micros: s.costMicros,
      unpriced_calls: s.unpricedCalls,
    })
    .onConflict((oc) =>
      oc.columns(['account', 'period', 'provider', 'model']).doUpdateSet((eb) => ({
        calls: eb('billing_usage.calls', '+', eb.ref('excluded.calls')),
        input_tokens: eb('billing_usage.input_tokens', '+', eb.ref('excluded.input_tokens')),
        output_tokens: eb('billing_usage.output_tokens', '+', eb.ref('excluded.output_tokens')),
        cache_read_tokens: eb('billing_usage.cache_read_tokens', '+', eb.ref('excluded.cache_read_tokens')),
        cache_write_tokens: eb('billing_usage.cache_write_tokens', '+', eb.ref('excluded.cache_write_tokens')),
        cost_micros: eb('billing_usage.cost_micros', '+', eb.ref('excluded.cost_micros')),
        unpriced_calls: eb('billing_usage.unpriced_calls', '+', eb.ref('excluded.unpriced_calls')),
      })),
    )
    .execute();
}

export function createUsageSync(deps: UsageSyncDeps): UsageSync {
  const { db, now, logger } = deps;
  const pageSize = Math.min(1_000, Math.max(1, deps.pageSize ?? 500));
  let timer: NodeJS.Timeout | null = null;
  let round: Promise<unknown> | null = null;

  async function cursor(instanceId: string): Promise<number> {
    const row = await db.k.selectFrom('usage_cursors').select('after_id').where('instance_id', '=', instanceId).executeTakeFirst();
    return row?.after_id ?? 0;
  }

  async function commitPage(source: UsageSource, after: number, raw: UsagePage, fence?: Fence): Promise<boolean> {
    const page = checkedPage(after, raw);
    if (page.rows.length === 0) return false;
    return db.tx(async (t) => {
      await db.lock(t, `usage-cursor:${source.instanceId}`);
      const current = await t.selectFrom('usage_cursors').select(['after_id', 'rows']).where('instance_id', '=', source.instanceId).executeTakeFirst();
      if ((current?.after_id ?? 0) !== after) return false;
      for (const group of groupRows(page.rows).values()) await addGroup(t, source.account, group);
      if (deps.onPage) await deps.onPage(t, source, page);
      const rows = (current?.rows ?? 0) + page.rows.length;
      await t
        .insertInto('usage_cursors')
        .values({ instance_id: source.instanceId, account: source.account, after_id: page.nextCursor, rows, synced_at: now() })
        .onConflict((oc) => oc.column('instance_id').doUpdateSet({ after_id: page.nextCursor, rows, synced_at: now() }))
        .execute();
      // The lease is checked last, right before commit: a replica that lost the lead meanwhile leaves nothing behind.
      if (fence) await fence(t);
      return true;
    });
  }

  async function syncInstance(source: UsageSource, fence?: Fence): Promise<number> {
    let counted = 0;
    for (;;) {
      const after = await cursor(source.instanceId);
      const page = await deps.pull(source.instanceId, after, pageSize);
      if (page.rows.length === 0) return counted;
      if (await commitPage(source, after, page, fence)) counted += page.rows.length;
      if (page.rows.length < pageSize) return counted;
    }
  }

  async function syncAll(fence?: Fence): Promise<SyncReport> {
    const report: SyncReport = { rows: 0, failed: [] };
    for (const source of await deps.sources()) {
      try {
        report.rows += await syncInstance(source, fence);
      } catch (err) {
        report.failed.push(source.instanceId);
        logger.warn('usage sync: an instance could not be read', { instance: source.instanceId, err: err instanceof Error ? err.message : String(err) });
      }
    }
    return report;
  }

  return {
    syncInstance,
    syncAll,
    commitPage,
    cursor,
    async periods(account: string): Promise<BillingPeriodUsage[]> {
      const rows = await db.k
        .selectFrom('billing_usage')
        .selectAll()
        .where('account', '=', account)
        .orderBy('period', 'desc')
        .orderBy('provider')
        .orderBy('model')
        .execute();
      return rows.map((r) => ({
        period: r.period,
        provider: r.provider,
        model: r.model,
        calls: r.calls,
        inputTokens: r.input_tokens,
        outputTokens: r.output_tokens,
        cacheReadTokens: r.cache_read_tokens,
        cacheWriteTokens: r.cache_write_tokens,
        costMicros: r.cost_micros,
        unpricedCalls: r.unpriced_calls,
      }));
    },
    start(fence: Fence) {
      if (timer) return;
      const tick = () => {
        round ??= syncAll(fence)
          .then(() => deps.afterRound?.(fence))
          .catch((err: unknown) => logger.warn('usage sync round failed', { err: err instanceof Error ? err.message : String(err) }))
          .finally(() => {
            round = null;
          });
      };
      tick();
      timer = setInterval(tick, deps.everyMs ?? 60_000);
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await round;
    },
  };
}
