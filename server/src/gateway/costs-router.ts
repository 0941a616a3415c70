/**
 * The costs procedures: the ledger behind the Costs page, the user's budget,
 * and what the manager reads and sets (usage rows after a cursor, the plan's
 * caps). Inputs are the shared schemas; the store re-checks them.
 */
import { BudgetSetInput, GatewayCostAdminInputs, UsageLedgerInput, usdLabel } from '@autoclaw/shared';
import type { BudgetStatus, PlanCaps, UsageLedger, UsagePage, UsageSummary } from '@autoclaw/shared';
import { authedProcedure, managerProcedure, ownerProcedure, router } from './trpc';

export const usageRouter = router({
  summary: authedProcedure.query(({ ctx }): UsageSummary => ctx.services.chat.usageSummary()),
  /** Totals by local day (in the client's time zone), model, session, channel and/or tool. */
  ledger: authedProcedure.input(UsageLedgerInput).query(({ ctx, input }): UsageLedger => ctx.services.store.usageLedger(input)),
});

export const budgetRouter = router({
  get: authedProcedure.query(({ ctx }): BudgetStatus => ctx.services.store.budgetStatus()),
  set: ownerProcedure
    .input(BudgetSetInput)
    .mutation(({ ctx, input }): BudgetStatus => ctx.services.store.setBudgetCaps(input, { actor: ctx.device.id })),
});

/** For the manager's billing: spread into the `admin` router. */
export const costAdminProcedures = {
  /** Usage rows with id > after (oldest first, at most `limit`); `nextCursor` is the next `after`. Re-reading is safe. */
  usagePage: managerProcedure
    .input(GatewayCostAdminInputs.usagePage)
    .query(({ ctx, input }): UsagePage => ctx.services.store.usagePage(input.after, input.limit)),
  /**
   * The plan's daily and monthly caps (null: none; 0: nothing may be spent),
   * the pooled credit left, and the reason shown to the user, who also gets a
   * notice when the limits change.
   */
  setPlanCaps: managerProcedure.input(GatewayCostAdminInputs.setPlanCaps).mutation(({ ctx, input }): PlanCaps => {
    const before = ctx.services.store.budgetStatus().plan;
    const plan = ctx.services.store.setPlanCaps(input, { actor: ctx.device.id });
    // The pooled credit moves with every sync round: the user hears only of changed limits.
    if (before.dailyMicros === plan.dailyMicros && before.monthlyMicros === plan.monthlyMicros && before.reason === plan.reason) return plan;
    const limit = (micros: number | null, per: string) => (micros === null ? `no ${per} limit` : `at most ${usdLabel(micros)} a ${per}`);
    const stopped = plan.dailyMicros === 0 || plan.monthlyMicros === 0;
    ctx.services.notices.publish({
      kind: 'budget',
      level: stopped ? 'error' : 'info',
      title: stopped ? 'Answers are paused by your plan' : 'Your plan limits changed',
      body: `${limit(plan.dailyMicros, 'day')}, ${limit(plan.monthlyMicros, 'month')}.${plan.reason ? ` ${plan.reason}` : ''}`,
    });
    return plan;
  }),
};
