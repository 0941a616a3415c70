/**
 * Pooled credits: what an account bought (credit_grants) minus what its AI
 * usage cost with the margin (credit_debits, one row per counted page of an
 * instance's usage, written in the page's own transaction — so a row is
 * debited exactly when it is counted, once) minus what a monthly reset let
 * expire. When the balance is used up, billing puts a $0 plan cap on each of
 * the account's instances (the gateway refuses before any provider call and
 * tells the user why); a top-up lifts it. BYOK accounts are never debited.
 */
import { MAX_CAP_MICROS, type UsagePage } from '@autoclaw/shared';
import type { Executor, Fence, ManagerDb } from '../db';
import type { Logger } from '../gateway-parts';
import { ensureBillingAccount } from './account-state';

export interface CreditSettings {
  /** The margin on AI costs in basis points (2000 = 20 %). */
  marginBps: number;
  /** Unused credits expire at the start of each UTC month. */
  monthlyReset: boolean;
}

/** What the user reads on the gateway (notice and chat refusal) while their instance is paused. */
export const CREDITS_OUT_REASON = 'Your AI credits ran out — top up on the Billing page to continue.';

/** What admin.setPlanCaps takes. */
export interface PlanCapsInput {
  dailyMicros: number | null;
  monthlyMicros: number | null;
  reason: string | null;
  /** The credit left, as AI cost before the margin, for the gateway's usage rows after `creditAfter` (the sync cursor). */
  creditMicros?: number | null;
  creditAfter?: number;
}

export interface CreditSource {
  instanceId: string;
  account: string;
}

export interface CreditsDeps {
  db: ManagerDb;
  now: () => number;
  logger: Logger;
  settings: CreditSettings;
  /** The live instances (a stopped gateway cannot take caps; it gets them on the round after it starts). */
  sources: () => Promise<CreditSource[]>;
  /** The ids of the account's instances that exist (any state): a deleted one's part is free again. */
  owned: (account: string) => Promise<string[]>;
  /** Puts plan caps on an instance's gateway (admin.setPlanCaps). */
  setPlanCaps: (instanceId: string, caps: PlanCapsInput) => Promise<unknown>;
}

export interface Credits {
  /** Inside the transaction that counts `page`: debits its priced rows with the margin (nothing for BYOK). Returns the micros debited. */
  debitPage(t: Executor, source: CreditSource, page: UsagePage): Promise<number>;
  balance(account: string): Promise<number>;
  /** Ensures the account's billing row (inside `t`). */
  ensureAccount(t: Executor, account: string): Promise<void>;
  setByok(account: string, byok: boolean): Promise<void>;
  /** The monthly reset (when on), each account's paused flag, and the caps on every live instance to match. `account`: only that one's instances. */
  enforce(opts?: { account?: string; fence?: Fence }): Promise<void>;
}

/** cost × (1 + margin), rounded up to the micro-dollar, in integers (BigInt: no float drift at any size). */
export function debitOf(costMicros: number, marginBps: number): number {
  const scaled = BigInt(costMicros) * BigInt(10_000 + marginBps);
  return Number((scaled + 9_999n) / 10_000n);
}

const num = (v: unknown): number => Number(v ?? 0);

/** `YYYY-MM` in UTC. */
const monthOf = (at: number): string => new Date(at).toISOString().slice(0, 7);

export function createCredits(deps: CreditsDeps): Credits {
  const { db, now, logger, settings } = deps;

  const ensureAccount = (t: Executor, account: string): Promise<void> => ensureBillingAccount(t, account, now());

  async function balanceIn(t: Executor, account: string): Promise<{ balance: number; history: boolean }> {
    const granted = await t.selectFrom('credit_grants').select((eb) => [eb.fn.sum<number>('micros').as('m'), eb.fn.countAll<number>().as('n')]).where('account', '=', account).executeTakeFirst();
    const debited = await t.selectFrom('credit_debits').select((eb) => [eb.fn.sum<number>('micros').as('m'), eb.fn.countAll<number>().as('n')]).where('account', '=', account).executeTakeFirst();
    return { balance: num(granted?.m) - num(debited?.m), history: num(granted?.n) + num(debited?.n) > 0 };
  }

  async function resetIfDue(account: string, fence?: Fence): Promise<void> {
    const period = monthOf(now());
    await db.tx(async (t) => {
      await db.lock(t, `credits:${account}`);
      const row = await t.selectFrom('billing_accounts').select('reset_period').where('account', '=', account).executeTakeFirst();
      if (!row || row.reset_period === period) return;
      const { balance } = await balanceIn(t, account);
      if (balance > 0) {
        await t
          .insertInto('credit_debits')
          .values({ reference: `reset:${account}:${period}`, account, micros: balance, kind: 'reset', created_at: now() })
          .onConflict((oc) => oc.column('reference').doNothing())
          .execute();
      }
      await t.updateTable('billing_accounts').set({ reset_period: period, updated_at: now() }).where('account', '=', account).execute();
      if (fence) await fence(t);
      logger.info('credits reset for the month', { account, period, expiredMicros: Math.max(0, balance) });
    });
  }

  /** Sets the account's paused flag from its balance; returns it with the credit the gateways may still spend (null: no credit cap). */
  async function settle(account: string, fence?: Fence): Promise<{ paused: boolean; credit: number | null }> {
    return db.tx(async (t) => {
      await db.lock(t, `credits:${account}`);
      const row = await t.selectFrom('billing_accounts').select(['byok', 'paused']).where('account', '=', account).executeTakeFirst();
      if (!row) return { paused: false, credit: null };
      const { balance, history } = await balanceIn(t, account);
      const paused = row.byok === 0 && history && balance <= 0;
      if (Number(row.paused) !== (paused ? 1 : 0)) {
        await t.updateTable('billing_accounts').set({ paused: paused ? 1 : 0, updated_at: now() }).where('account', '=', account).execute();
        if (fence) await fence(t);
        logger.info(paused ? 'credits used up: AI calls paused' : 'credits available: AI calls resumed', { account, balanceMicros: balance });
      }
      // The balance is in debited micros (with the margin); a gateway weighs calls at cost.
      const credit = row.byok === 0 && history ? Math.min(MAX_CAP_MICROS, Math.floor((Math.max(0, balance) * 10_000) / (10_000 + settings.marginBps))) : null;
      return { paused, credit };
    });
  }

  const cursorOf = async (instanceId: string): Promise<number> =>
    num((await db.k.selectFrom('usage_cursors').select('after_id').where('instance_id', '=', instanceId).executeTakeFirst())?.after_id);

  /** What was last put on each instance (a restart of the manager puts it again once). */
  const pushed = new Map<string, string>();

  /**
   * The credit each of the account's instances was last given (kept in instance_caps, so a
   * restart of the manager still knows it): one that is not reachable now (asleep, or its
   * push failed) may still spend it.
   */
  async function grantsOf(account: string): Promise<Map<string, number>> {
    const rows = await db.k.selectFrom('instance_caps').select(['instance_id', 'credit_micros']).where('account', '=', account).where('credit_micros', 'is not', null).execute();
    const owned = new Set(await deps.owned(account));
    const gone = rows.filter((r) => !owned.has(r.instance_id)).map((r) => r.instance_id);
    if (gone.length > 0) await db.k.deleteFrom('instance_caps').where('instance_id', 'in', gone).execute();
    return new Map(rows.filter((r) => owned.has(r.instance_id)).map((r) => [r.instance_id, num(r.credit_micros)]));
  }

  /**
   * Several instances of one account share its credit: each reachable one gets an equal part of
   * what is left after the parts still held by the account's instances it cannot reach,
   * so together they cannot spend more than the account holds between two rounds.
   */
  function shareOf(credit: number, grants: ReadonlyMap<string, number>, reachable: ReadonlySet<string>): number {
    let held = 0;
    for (const [id, micros] of grants) if (!reachable.has(id)) held += micros;
    return Math.floor(Math.max(0, credit - held) / Math.max(1, reachable.size));
  }

  /** Puts `caps` on one instance and records what it holds now; false when the gateway could not be reached. */
  async function push(source: CreditSource, caps: PlanCapsInput, paused: boolean, credit: number | null): Promise<boolean> {
    try {
      await deps.setPlanCaps(source.instanceId, caps);
    } catch (err) {
      logger.warn('credits: the plan caps could not reach an instance (tried again next round)', { instance: source.instanceId, err: err instanceof Error ? err.message : String(err) });
      return false;
    }
    pushed.set(source.instanceId, JSON.stringify(caps));
    const row = { paused: paused ? 1 : 0, applied_at: now(), account: source.account, credit_micros: credit };
    await db.k
      .insertInto('instance_caps')
      .values({ instance_id: source.instanceId, ...row })
      .onConflict((oc) => oc.column('instance_id').doUpdateSet(row))
      .execute();
    return true;
  }

  /** One account's instances: each reachable one gets its caps and share; an instance whose push fails keeps its old share, so the others' are worked out again without it. */
  async function enforceAccount(account: string, state: { paused: boolean; credit: number | null }, sources: readonly CreditSource[]): Promise<void> {
    const caps: PlanCapsInput = state.paused ? { dailyMicros: 0, monthlyMicros: 0, reason: CREDITS_OUT_REASON } : { dailyMicros: null, monthlyMicros: null, reason: null };
    const unreachable = new Set<string>();
    for (let round = 0; round <= sources.length; round += 1) {
      const grants = await grantsOf(account);
      const reachable = new Set(sources.map((s) => s.instanceId).filter((id) => !unreachable.has(id)));
      const credit = state.credit === null ? null : shareOf(state.credit, grants, reachable);
      // Shares that shrink go out first: between two pushes the instances never hold more than the credit.
      const order = sources.filter((s) => reachable.has(s.instanceId)).sort((a, b) => (grants.get(b.instanceId) ?? 0) - (grants.get(a.instanceId) ?? 0));
      let failed = false;
      for (const source of order) {
        // The credit left is the gateway's own hard cap, counted from the sync cursor: no overspend between rounds.
        const mine: PlanCapsInput = credit === null ? caps : { ...caps, creditMicros: credit, creditAfter: await cursorOf(source.instanceId) };
        const last = pushed.get(source.instanceId);
        if (last !== undefined ? last === JSON.stringify(mine) : credit === null && (await appliedPaused(source.instanceId)) === state.paused) continue;
        if (await push(source, mine, state.paused, credit)) continue;
        // It keeps its old share: the rest is worked out again before anyone gets more.
        unreachable.add(source.instanceId);
        failed = true;
        break;
      }
      if (!failed) return;
    }
  }

  const appliedPaused = async (instanceId: string): Promise<boolean> => {
    const applied = await db.k.selectFrom('instance_caps').select('paused').where('instance_id', '=', instanceId).executeTakeFirst();
    return applied ? Number(applied.paused) === 1 : false;
  };

  return {
    ensureAccount,

    async debitPage(t, source, page) {
      await ensureAccount(t, source.account);
      const row = await t.selectFrom('billing_accounts').select('byok').where('account', '=', source.account).executeTakeFirstOrThrow();
      if (row.byok !== 0) return 0;
      let micros = 0;
      for (const r of page.rows) if (r.costMicros !== null && r.costMicros > 0) micros += debitOf(r.costMicros, settings.marginBps);
      if (micros === 0) return 0;
      // The page's last row id names it: the cursor commit that counts it can happen once, and so can this.
      await t
        .insertInto('credit_debits')
        .values({ reference: `usage:${source.instanceId}:${page.nextCursor}`, account: source.account, micros, kind: 'usage', created_at: now() })
        .onConflict((oc) => oc.column('reference').doNothing())
        .execute();
      return micros;
    },

    async balance(account) {
      return (await balanceIn(db.k, account)).balance;
    },

    async setByok(account, byok) {
      await db.tx(async (t) => {
        await ensureAccount(t, account);
        await t.updateTable('billing_accounts').set({ byok: byok ? 1 : 0, updated_at: now() }).where('account', '=', account).execute();
      });
    },

    async enforce(opts = {}) {
      const live = await deps.sources();
      const accounts = new Set(live.filter((s) => opts.account === undefined || s.account === opts.account).map((s) => s.account));
      if (opts.account !== undefined) accounts.add(opts.account);
      for (const account of accounts) {
        if (settings.monthlyReset) await resetIfDue(account, opts.fence);
        const state = await settle(account, opts.fence);
        await enforceAccount(account, state, live.filter((s) => s.account === account));
      }
    },
  };
}
