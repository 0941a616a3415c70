/**
 * Hard budgets, enforced before spending. `reserveBudget` holds a provider
 * call's worst case in ONE immediate transaction that checks spend plus every
 * open reservation against each cap that applies (daily, monthly, per
 * session, daily tokens; the lower of the user's and the plan's), so no number
 * of concurrent calls — in this process or another — can pass a cap together.
 * The call's usage row settles the reservation in its own transaction
 * (recordUsage); a call that fails without usage releases it; `recover()`
 * clears what a killed process left.
 */
import {
  BudgetSetInput,
  GatewayCostAdminInputs,
  usdLabel,
  type BudgetCapName,
  type BudgetExceededDetails,
  type BudgetPatch,
  type BudgetStatus,
  type CapSource,
  type PlanCaps,
} from '@autoclaw/shared';
import { budgetRefusal, planLimitError } from './budget-refusal';
import { DEFAULT_BUDGET_ZONE, effectiveOf, type CapsRow, type Effective, type Periods, type Spend, type SpendTracker } from './budget-spend';
import type { StoreContext } from './context';
import type { BudgetReservationInput, Store } from './types';
import { checkCount, checkId } from './validate';
import { zodInput } from './zod-input';

export type BudgetQueries = Pick<Store, 'budgetStatus' | 'setBudgetCaps' | 'setPlanCaps' | 'reserveBudget' | 'releaseBudget'>;

interface Held {
  micros: number;
  tokens: number;
  calls: number;
}

export function budgetQueries({ db, now }: StoreContext, spend: SpendTracker, appendAudit: Store['appendAudit']): BudgetQueries {
  const heldAll = db.prepare<[], Held>(
    'SELECT coalesce(sum(micros), 0) AS micros, coalesce(sum(tokens), 0) AS tokens, count(*) AS calls FROM budget_reservations',
  );
  const heldSession = db.prepare<[string], Held>(
    'SELECT coalesce(sum(micros), 0) AS micros, coalesce(sum(tokens), 0) AS tokens, count(*) AS calls FROM budget_reservations WHERE session_id = ?',
  );
  const insertReservation = db.prepare<[string, string | null, number | null, number, number]>(
    'INSERT INTO budget_reservations (boot_id, session_id, micros, tokens, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const deleteReservation = db.prepare<[number]>('DELETE FROM budget_reservations WHERE id = ?');
  const upsertCaps = db.prepare<[string, number | null, number | null, number | null, number | null, number | null, string | null, string | null, number]>(
    `INSERT OR REPLACE INTO budget_caps (scope, daily_micros, monthly_micros, session_micros, daily_tokens, soft_percent, time_zone, reason, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );

  /** The first cap the call would pass, or null when it fits under all of them. */
  function verdict(input: { sessionId: string | null; micros: number | null; tokens: number }, eff: Effective, p: Periods): BudgetExceededDetails | null {
    const money = (cap: BudgetCapName, limit: number | null, source: CapSource | null, period: string, used: () => Spend, held: () => Held) => {
      if (limit === null) return null;
      // A money cap cannot weigh an unpriced call, except a cap of zero: nothing may be spent.
      if (input.micros === null && limit > 0) return null;
      const spent = used().micros;
      const reserved = held().micros;
      if (input.micros !== null && spent + reserved + input.micros <= limit) return null;
      const out: BudgetExceededDetails = {
        cap,
        source: source ?? 'user',
        period,
        limitMicros: limit,
        spentMicros: spent,
        reservedMicros: reserved,
        remainingMicros: Math.max(0, limit - spent - reserved),
      };
      if (input.micros !== null) out.neededMicros = input.micros;
      return out;
    };
    const all = (() => {
      let cached: Held | undefined;
      return () => (cached ??= heldAll.get() ?? { micros: 0, tokens: 0, calls: 0 });
    })();
    const dayKey = spend.dayKey(p);
    const day = () => spend.ensure(dayKey, p);
    const refusal =
      money('daily', eff.dailyMicros, eff.dailySource, p.dayKey, day, all) ??
      money('monthly', eff.monthlyMicros, eff.monthlySource, p.month.key, () => spend.ensure(spend.monthKey(p), p), all) ??
      (input.sessionId === null
        ? null
        : money(
            'session',
            eff.sessionMicros,
            'user',
            input.sessionId,
            () => spend.ensure(spend.sessionKey(input.sessionId as string), p, input.sessionId as string),
            () => heldSession.get(input.sessionId as string) ?? { micros: 0, tokens: 0, calls: 0 },
          ));
    if (refusal) return refusal;
    if (eff.dailyTokens !== null) {
      const spent = day().tokens;
      const reserved = all().tokens;
      if (spent + reserved + input.tokens > eff.dailyTokens) {
        return {
          cap: 'dailyTokens',
          source: 'user',
          period: p.dayKey,
          limitTokens: eff.dailyTokens,
          spentTokens: spent,
          reservedTokens: reserved,
          remainingTokens: Math.max(0, eff.dailyTokens - spent - reserved),
          neededTokens: input.tokens,
        };
      }
    }
    return null;
  }

  const reserve = db.transaction((input: BudgetReservationInput): { id: number } | { refused: BudgetExceededDetails } => {
    const { user, plan } = spend.allCaps();
    const eff = effectiveOf(user, plan);
    const capped = eff.dailyMicros !== null || eff.monthlyMicros !== null || eff.sessionMicros !== null || eff.dailyTokens !== null;
    if (capped) {
      const refused = verdict(input, eff, spend.periodsAt(now(), user?.time_zone ?? DEFAULT_BUDGET_ZONE));
      if (refused) {
        if (refused.source === 'plan' && plan?.reason) refused.reason = plan.reason;
        return { refused };
      }
    }
    const info = insertReservation.run(input.bootId, input.sessionId, input.micros, input.tokens, now());
    return { id: Number(info.lastInsertRowid) };
  });

  function status(): BudgetStatus {
    const { user, plan } = spend.allCaps();
    const eff = effectiveOf(user, plan);
    const p = spend.periodsAt(now(), user?.time_zone ?? DEFAULT_BUDGET_ZONE);
    const day = spend.peek(spend.dayKey(p), p);
    const month = spend.peek(spend.monthKey(p), p);
    const held = heldAll.get() ?? { micros: 0, tokens: 0, calls: 0 };
    return {
      caps: {
        dailyMicros: user?.daily_micros ?? null,
        monthlyMicros: user?.monthly_micros ?? null,
        sessionMicros: user?.session_micros ?? null,
        dailyTokens: user?.daily_tokens ?? null,
        softPercent: user?.soft_percent ?? null,
        timeZone: p.timeZone,
      },
      plan: planOf(plan),
      effective: eff,
      day: { period: p.dayKey, spentMicros: day.micros, spentTokens: day.tokens, unpricedCalls: day.unpriced },
      month: { period: p.month.key, spentMicros: month.micros, spentTokens: month.tokens, unpricedCalls: month.unpriced },
      reserved: held,
    };
  }
  const readStatus = db.transaction(status);

  return {
    budgetStatus: () => readStatus(),

    setBudgetCaps(patch, opts = {}) {
      const input = zodInput(BudgetSetInput, patch, 'budget');
      const write = db.transaction(() => {
        const { user, plan } = spend.allCaps();
        for (const [field, cap] of [['dailyMicros', 'daily'], ['monthlyMicros', 'monthly']] as const) {
          const value = input[field];
          const limit = field === 'dailyMicros' ? plan?.daily_micros : plan?.monthly_micros;
          if (value !== undefined && value !== null && limit !== undefined && limit !== null && value > limit) {
            throw planLimitError(cap, limit, plan?.reason ?? null);
          }
        }
        const pick = <T>(next: T | undefined, current: T | null | undefined): T | null => (next === undefined ? (current ?? null) : next);
        for (const [field, column, show] of AUDITED) {
          const next = input[field];
          const before = user?.[column] ?? null;
          if (next === undefined || next === before) continue;
          appendAudit({ deviceId: opts.actor ?? null, action: 'budget.set', target: `budget.${field}`, oldValue: show(before), newValue: show(next) });
        }
        upsertCaps.run(
          'user',
          pick(input.dailyMicros, user?.daily_micros),
          pick(input.monthlyMicros, user?.monthly_micros),
          pick(input.sessionMicros, user?.session_micros),
          pick(input.dailyTokens, user?.daily_tokens),
          pick(input.softPercent, user?.soft_percent),
          pick(input.timeZone, user?.time_zone),
          null,
          now(),
        );
        return status();
      });
      return write.immediate();
    },

    setPlanCaps(caps, opts = {}) {
      const input = zodInput(GatewayCostAdminInputs.setPlanCaps, caps, 'plan caps');
      const write = db.transaction(() => {
        const before = planOf(spend.caps('plan'));
        const text = (p: { dailyMicros: number | null; monthlyMicros: number | null }) => `daily ${money(p.dailyMicros)}, monthly ${money(p.monthlyMicros)}`;
        appendAudit({ deviceId: opts.actor ?? null, action: 'budget.plan', target: 'plan', oldValue: text(before), newValue: text(input), detail: input.reason });
        upsertCaps.run('plan', input.dailyMicros, input.monthlyMicros, null, null, null, null, input.reason, now());
        return planOf(spend.caps('plan'));
      });
      return write.immediate();
    },

    reserveBudget(input) {
      const checked: BudgetReservationInput = {
        bootId: checkId(input.bootId, 'bootId'),
        sessionId: input.sessionId === null ? null : checkId(input.sessionId, 'sessionId'),
        micros: input.micros === null ? null : checkCount(input.micros, 'micros'),
        tokens: checkCount(input.tokens, 'tokens'),
      };
      const outcome = reserve.immediate(checked);
      if ('refused' in outcome) throw budgetRefusal(outcome.refused);
      return outcome.id;
    },

    releaseBudget(id) {
      return deleteReservation.run(checkCount(id, 'reservation id')).changes > 0;
    },
  };
}

const money = (v: number | string | null): string | null => (v === null ? 'none' : usdLabel(Number(v)));

/** The user's caps as the audit log shows them: field, column, and how a value reads. */
const AUDITED: ReadonlyArray<readonly [keyof BudgetPatch, 'daily_micros' | 'monthly_micros' | 'session_micros' | 'daily_tokens' | 'soft_percent' | 'time_zone', (v: number | string | null) => string | null]> = [
  ['dailyMicros', 'daily_micros', money],
  ['monthlyMicros', 'monthly_micros', money],
  ['sessionMicros', 'session_micros', money],
  ['dailyTokens', 'daily_tokens', (v) => (v === null ? 'none' : `${v} tokens`)],
  ['softPercent', 'soft_percent', (v) => (v === null ? 'none' : `${v}%`)],
  ['timeZone', 'time_zone', (v) => (v === null ? 'UTC' : String(v))],
];

function planOf(row: CapsRow | undefined): PlanCaps {
  return {
    dailyMicros: row?.daily_micros ?? null,
    monthlyMicros: row?.monthly_micros ?? null,
    reason: row?.reason ?? null,
    updatedAt: row?.updated_at ?? null,
  };
}
