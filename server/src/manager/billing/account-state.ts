/**
 * The platform subscription and payment state of an account, as Stripe's
 * events tell it. Events arrive late, twice and out of order, so a state is
 * only ever replaced by a newer one: a subscription event older (by the
 * event's `created`) than the stored state is ignored, a canceled
 * subscription stays canceled, and at the same second the later stage wins.
 */
import { BillingPlanSchema, SUBSCRIPTION_STATES } from '@autoclaw/shared';
import type { BillingPlan, PaymentState, SubscriptionState } from '@autoclaw/shared';
import type { Executor } from '../db';

export interface SubscriptionFact {
  id: string;
  status: SubscriptionState;
  plan: BillingPlan | null;
  /** The event's `created` (unix seconds). */
  at: number;
}

/** Stripe's subscription status as ours ('none' for anything unknown: it changes nothing). */
export function subscriptionStateOf(status: unknown): SubscriptionState {
  return (SUBSCRIPTION_STATES as readonly unknown[]).includes(status) ? (status as SubscriptionState) : 'none';
}

export function planOf(value: unknown): BillingPlan | null {
  const parsed = BillingPlanSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** How far along a subscription is: at the same second, a later stage wins over an earlier one. */
const STAGE: Record<SubscriptionState, number> = { none: 0, incomplete: 1, trialing: 2, active: 3, past_due: 4, unpaid: 5, paused: 5, canceled: 6 };

/** Applies `fact` to the account (whose billing row exists) unless the stored state is newer. Returns whether it changed anything. */
export async function applySubscription(t: Executor, account: string, fact: SubscriptionFact, now: number): Promise<boolean> {
  if (fact.status === 'none') return false;
  const row = await t
    .selectFrom('billing_accounts')
    .select(['subscription_id', 'subscription_status', 'subscription_at', 'plan'])
    .where('account', '=', account)
    .executeTakeFirstOrThrow();
  const storedAt = Number(row.subscription_at);
  const stored = subscriptionStateOf(row.subscription_status);
  if (fact.at < storedAt) return false;
  if (row.subscription_id === fact.id) {
    if (stored === 'canceled') return false;
    if (fact.at === storedAt && STAGE[fact.status] < STAGE[stored]) return false;
  }
  await t
    .updateTable('billing_accounts')
    .set({ subscription_id: fact.id, subscription_status: fact.status, subscription_at: fact.at, plan: fact.plan ?? row.plan, updated_at: now })
    .where('account', '=', account)
    .execute();
  return true;
}

/** The last invoice's outcome, unless a newer one is stored. */
export async function applyPayment(t: Executor, account: string, state: Exclude<PaymentState, 'none'>, at: number, now: number): Promise<boolean> {
  const row = await t.selectFrom('billing_accounts').select(['payment_at']).where('account', '=', account).executeTakeFirstOrThrow();
  if (at < Number(row.payment_at)) return false;
  await t.updateTable('billing_accounts').set({ payment_state: state, payment_at: at, updated_at: now }).where('account', '=', account).execute();
  return true;
}

/** The account's billing row (made on first need; its first monthly reset is the next month). */
export async function ensureBillingAccount(t: Executor, account: string, now: number): Promise<void> {
  await t
    .insertInto('billing_accounts')
    .values({
      account,
      byok: 0,
      plan: null,
      subscription_id: null,
      subscription_status: 'none',
      subscription_at: 0,
      payment_state: 'none',
      payment_at: 0,
      paused: 0,
      reset_period: new Date(now).toISOString().slice(0, 7),
      updated_at: now,
    })
    .onConflict((oc) => oc.column('account').doNothing())
    .execute();
}
