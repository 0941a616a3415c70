/**
 * billing.* on the manager: a signed-in user's own account — its plan,
 * payment state, credits and BYOK switch, a top-up or subscription as a
 * Checkout URL, and its invoices. Inputs are the shared BillingInputs.
 */
import { AppError, BillingInputs } from '@autoclaw/shared';
import type { BillingInvoice, BillingStatus } from '@autoclaw/shared';
import { protectedProcedure, router } from './trpc';
import type { BillingService } from './billing';
import type { BillingPart } from './billing-part';

interface Ctx {
  services: { billing?: BillingPart | undefined };
  user: { email: string };
}

function serviceOf(ctx: Ctx): BillingService {
  const billing = ctx.services.billing;
  if (!billing) throw new AppError('NOT_CONFIGURED', 'this manager runs no billing part');
  return billing.service;
}

/** The account is the signed-in user's (instances are owned by the lower-cased email). */
const accountOf = (ctx: Ctx): string => ctx.user.email.toLowerCase();

export const billingRouter = router({
  status: protectedProcedure.query(({ ctx }): Promise<BillingStatus> => serviceOf(ctx).status(accountOf(ctx))),
  topUp: protectedProcedure
    .input(BillingInputs.topUp)
    .mutation(({ ctx, input }): Promise<{ url: string }> => serviceOf(ctx).topUp(accountOf(ctx), input.amountCents, input.returnUrl)),
  subscribe: protectedProcedure
    .input(BillingInputs.subscribe)
    .mutation(({ ctx, input }): Promise<{ url: string }> => serviceOf(ctx).subscribe(accountOf(ctx), input.plan, input.returnUrl)),
  setByok: protectedProcedure
    .input(BillingInputs.setByok)
    .mutation(({ ctx, input }): Promise<BillingStatus> => serviceOf(ctx).setByok(accountOf(ctx), input.byok)),
  invoices: protectedProcedure.query(({ ctx }): Promise<BillingInvoice[]> => serviceOf(ctx).invoices(accountOf(ctx))),
});
