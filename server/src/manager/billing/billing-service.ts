/**
 * What an account sees and does on the Billing page: its plan, payment
 * state, credit balance and BYOK switch; top-ups and the subscription as
 * Checkout sessions; its invoices. With Stripe not configured, billing is
 * off: status says so and everything else is NOT_CONFIGURED.
 */
import { AppError } from '@autoclaw/shared';
import type { BillingInvoice, BillingPlan, BillingStatus, PaymentState } from '@autoclaw/shared';
import type { ManagerDb } from '../db';
import { planOf, subscriptionStateOf } from './account-state';
import type { CreditSettings, Credits } from './credits';
import type { StripeBilling } from './stripe-billing';

export interface BillingService {
  status(account: string): Promise<BillingStatus>;
  /** A Checkout URL for a credit top-up; the user comes back to `returnUrl`. */
  topUp(account: string, amountCents: number, returnUrl: string): Promise<{ url: string }>;
  subscribe(account: string, plan: BillingPlan, returnUrl: string): Promise<{ url: string }>;
  setByok(account: string, byok: boolean): Promise<BillingStatus>;
  invoices(account: string): Promise<BillingInvoice[]>;
}

export function createBillingService(deps: {
  db: ManagerDb;
  stripe: StripeBilling | null;
  credits: Credits;
  settings: CreditSettings;
  /** Whether Stripe may send the user back to this URL (an origin this manager serves). */
  returnAllowed: (url: string) => boolean;
}): BillingService {
  const { db, credits, settings } = deps;
  const on = (): StripeBilling => {
    if (!deps.stripe) throw new AppError('NOT_CONFIGURED', 'billing is off on this manager (Stripe is not configured)');
    return deps.stripe;
  };
  const urls = (returnUrl: string) => {
    if (!deps.returnAllowed(returnUrl)) throw new AppError('BAD_REQUEST', 'the return URL is not a page of this manager');
    const paid = new URL(returnUrl);
    paid.searchParams.set('checkout', 'done');
    return { successUrl: paid.toString(), cancelUrl: returnUrl };
  };

  async function status(account: string): Promise<BillingStatus> {
    const row = await db.k.selectFrom('billing_accounts').selectAll().where('account', '=', account).executeTakeFirst();
    return {
      enabled: deps.stripe !== null,
      plan: planOf(row?.plan),
      subscription: subscriptionStateOf(row?.subscription_status ?? 'none'),
      payment: (row?.payment_state ?? 'none') as PaymentState,
      creditMicros: await credits.balance(account),
      byok: Number(row?.byok ?? 0) === 1,
      paused: Number(row?.paused ?? 0) === 1,
      marginBps: settings.marginBps,
      monthlyReset: settings.monthlyReset,
    };
  }

  return {
    status,
    async topUp(account, amountCents, returnUrl) {
      const stripe = on();
      const { url } = await stripe.topUp(account, amountCents, urls(returnUrl));
      return { url };
    },
    async subscribe(account, plan, returnUrl) {
      const stripe = on();
      const { url } = await stripe.subscribe(account, plan, urls(returnUrl));
      return { url };
    },
    async setByok(account, byok) {
      on();
      await credits.setByok(account, byok);
      // A BYOK account is never paused for credits; switching back re-checks the balance.
      await credits.enforce({ account });
      return status(account);
    },
    async invoices(account) {
      return on().invoices(account);
    },
  };
}
