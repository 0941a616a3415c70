/**
 * The manager's billing contract: the platform plans, what billing.status
 * answers, and the inputs of billing.* (top-ups, subscriptions, the BYOK
 * switch). Money is integer cents for Stripe amounts and integer
 * micro-dollars for credits.
 */
import { z } from 'zod';

/** The platform subscription's plans: a monthly hosting fee, AI costs apart (credits or BYOK). */
export const BILLING_PLANS = {
  personal: { label: 'Personal', monthlyCents: 900 },
  pro: { label: 'Pro', monthlyCents: 2_900 },
} as const;
export type BillingPlan = keyof typeof BILLING_PLANS;
export const BillingPlanSchema = z.enum(Object.keys(BILLING_PLANS) as [BillingPlan, ...BillingPlan[]]);

/** One top-up: at least $5, at most $1,000, in whole cents. */
export const TOP_UP_MIN_CENTS = 500;
export const TOP_UP_MAX_CENTS = 100_000;

/** The subscription's state as Stripe reports it (`none`: never subscribed). */
export const SUBSCRIPTION_STATES = ['none', 'incomplete', 'trialing', 'active', 'past_due', 'unpaid', 'canceled', 'paused'] as const;
export type SubscriptionState = (typeof SUBSCRIPTION_STATES)[number];

/** The last invoice's outcome (`none`: no invoice yet). */
export const PAYMENT_STATES = ['none', 'paid', 'failed'] as const;
export type PaymentState = (typeof PAYMENT_STATES)[number];

export interface BillingStatus {
  /** False when Stripe is not configured on this manager: nothing is billed. */
  enabled: boolean;
  plan: BillingPlan | null;
  subscription: SubscriptionState;
  payment: PaymentState;
  /** Credits bought minus usage debited (with the margin) minus credits expired by a reset; may be below 0 until the next top-up. */
  creditMicros: number;
  /** The account pays its AI provider itself: usage is not debited, only the platform fee is billed. */
  byok: boolean;
  /** AI calls are paused on the account's instances because the credits ran out. */
  paused: boolean;
  /** The margin on AI costs, in basis points (2000 = 20 %). */
  marginBps: number;
  /** Unused credits expire at the start of each UTC month. */
  monthlyReset: boolean;
}

export interface BillingInvoice {
  id: string;
  number: string | null;
  status: string | null;
  amountPaidCents: number;
  currency: string;
  created: number;
  url: string | null;
}

const ReturnUrl = z
  .string()
  .max(2_000)
  .url()
  .refine((u) => /^https?:\/\//i.test(u), 'an http(s) URL');

export const BillingInputs = {
  /** A Checkout payment for credits; `returnUrl` is where Stripe sends the user back (an origin of this manager). */
  topUp: z.object({ amountCents: z.number().int().min(TOP_UP_MIN_CENTS).max(TOP_UP_MAX_CENTS), returnUrl: ReturnUrl }).strict(),
  subscribe: z.object({ plan: BillingPlanSchema, returnUrl: ReturnUrl }).strict(),
  setByok: z.object({ byok: z.boolean() }).strict(),
} as const;
