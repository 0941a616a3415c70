/**
 * The costs procedures: the ledger behind the Costs page, the user's budget,
 * and what the manager reads and sets (usage rows after a cursor, the plan's
 * caps). Inputs are the shared schemas; the store re-checks them.
 */
import { BudgetSetInput, GatewayCostAdminInputs, UsageLedgerInput } from '@autoclaw/shared';
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
  /** The plan's daily and monthly caps (null: none; 0: nothing may be spent) and the reason shown to the user. */
  setPlanCaps: managerProcedure
    .input(GatewayCostAdminInputs.setPlanCaps)
    .mutation(({ ctx, input }): PlanCaps => ctx.services.store.setPlanCaps(input, { actor: ctx.device.id })),
};
