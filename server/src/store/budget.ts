/**
 * Hard budgets, enforced before spending. Every decision is the budget book's
 * (budget-book.ts): spend plus every open reservation against each cap that
 * applies (daily, monthly, per session, daily tokens; the lower of the user's
 * and the plan's), decided and held in one synchronous step. `holdBudget` is
 * the agent's: no commit, the row follows in a batched write (`budgetDurable`).
 * `reserveBudget` decides and writes inside ONE immediate transaction, so
 * even calls of several processes cannot pass a cap together. The call's usage
 * settles the reservation (settleBudget / recordUsage); a call that fails
 * without usage releases it; `recover()` clears what a killed process left.
 */
import {
  BudgetSetInput,
  GatewayCostAdminInputs,
  usdLabel,
  type BudgetPatch,
  type BudgetStatus,
  type PlanCaps,
} from '@autoclaw/shared';
import type { BudgetBook, Held } from './budget-book';
import { planLimitError } from './budget-refusal';
import { DEFAULT_BUDGET_ZONE, effectiveOf, type CapsRow, type SpendTracker } from './budget-spend';
import type { StoreContext } from './context';
import type { BudgetReservationInput, Store } from './types';
import { checkCount, checkId } from './validate';
import { zodInput } from './zod-input';

export type BudgetQueries = Pick<Store, 'budgetStatus' | 'setBudgetCaps' | 'setPlanCaps' | 'reserveBudget' | 'holdBudget' | 'budgetDurable' | 'releaseBudget'>;

export function budgetQueries({ db, now }: StoreContext, spend: SpendTracker, book: BudgetBook, appendAudit: Store['appendAudit']): BudgetQueries {
  const heldAll = db.prepare<[], Held>(
    'SELECT coalesce(sum(micros), 0) AS micros, coalesce(sum(tokens), 0) AS tokens, count(*) AS calls FROM budget_reservations',
  );
  const deleteReservation = db.prepare<[number]>('DELETE FROM budget_reservations WHERE id = ?');
  const spentAfter = db.prepare<[number], number>('SELECT coalesce(sum(cost_micros), 0) FROM usage WHERE id > ?').pluck();
  const upsertCaps = db.prepare<[string, number | null, number | null, number | null, number | null, number | null, string | null, string | null, number, number | null, number | null]>(
    `INSERT OR REPLACE INTO budget_caps (scope, daily_micros, monthly_micros, session_micros, daily_tokens, soft_percent, time_zone, reason, updated_at, credit_micros, credit_after)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );

  const reserve = db.transaction((input: BudgetReservationInput): number => {
    // The running totals a synchronous usage insert keeps in step (for its soft lines).
    const { user, plan } = spend.allCaps();
    const eff = effectiveOf(user, plan);
    const p = spend.periodsAt(now(), user?.time_zone ?? DEFAULT_BUDGET_ZONE);
    if (eff.dailyMicros !== null || eff.dailyTokens !== null) spend.ensure(spend.dayKey(p), p);
    if (eff.monthlyMicros !== null) spend.ensure(spend.monthKey(p), p);
    if (eff.sessionMicros !== null && input.sessionId !== null) spend.ensure(spend.sessionKey(input.sessionId), p, input.sessionId);
    const id = book.hold(input, true);
    book.flush();
    return id;
  });

  function status(): BudgetStatus {
    const { user, plan } = spend.allCaps();
    const eff = effectiveOf(user, plan);
    const p = spend.periodsAt(now(), user?.time_zone ?? DEFAULT_BUDGET_ZONE);
    const day = spend.peek(spend.dayKey(p), p);
    const month = spend.peek(spend.monthKey(p), p);
    const held = heldAll.get() ?? { micros: 0, tokens: 0, calls: 0 };
    const limit = plan?.credit_micros ?? null;
    const spent = limit === null ? 0 : (spentAfter.get(plan?.credit_after ?? 0) ?? 0);
    return {
      ...(limit === null ? {} : { credit: { limitMicros: limit, spentMicros: spent, leftMicros: Math.max(0, limit - spent) } }),
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
          null,
          null,
        );
        return status();
      });
      try {
        return write.immediate();
      } finally {
        book.invalidate();
      }
    },

    setPlanCaps(caps, opts = {}) {
      const input = zodInput(GatewayCostAdminInputs.setPlanCaps, caps, 'plan caps');
      const write = db.transaction(() => {
        const before = planOf(spend.caps('plan'));
        const credit = input.creditMicros ?? null;
        const text = (p: { dailyMicros: number | null; monthlyMicros: number | null; creditMicros?: number | null | undefined }) =>
          `daily ${money(p.dailyMicros)}, monthly ${money(p.monthlyMicros)}${p.creditMicros === null || p.creditMicros === undefined ? '' : `, credit ${money(p.creditMicros)}`}`;
        // The credit moves with every sync round: only a change of the caps themselves is audited.
        if (text({ ...before, creditMicros: null }) !== text({ ...input, creditMicros: null }) || before.reason !== input.reason || (before.creditMicros === null) !== (credit === null)) {
          appendAudit({ deviceId: opts.actor ?? null, action: 'budget.plan', target: 'plan', oldValue: text(before), newValue: text(input), detail: input.reason });
        }
        upsertCaps.run('plan', input.dailyMicros, input.monthlyMicros, null, null, null, null, input.reason, now(), credit, credit === null ? null : (input.creditAfter ?? 0));
        return planOf(spend.caps('plan'));
      });
      try {
        return write.immediate();
      } finally {
        book.invalidate();
      }
    },

    reserveBudget(input) {
      return reserve.immediate(checkReservation(input));
    },

    holdBudget(input) {
      return book.hold(checkReservation(input));
    },

    budgetDurable: () => book.durable(),

    releaseBudget(id) {
      const ours = book.release(checkCount(id, 'reservation id'));
      if (ours !== null) return ours;
      return deleteReservation.run(id).changes > 0;
    },
  };
}

function checkReservation(input: BudgetReservationInput): BudgetReservationInput {
  return {
    bootId: checkId(input.bootId, 'bootId'),
    sessionId: input.sessionId === null ? null : checkId(input.sessionId, 'sessionId'),
    micros: input.micros === null ? null : checkCount(input.micros, 'micros'),
    tokens: checkCount(input.tokens, 'tokens'),
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
    creditMicros: row?.credit_micros ?? null,
    creditAfter: row?.credit_after ?? null,
  };
}
