/** The billing part's door: usage aggregation per account and billing period, credits, Stripe, billing.* procedures. */
export { createUsageSync, billingPeriodOf } from './usage-sync';
export type { UsageSync, UsageSyncDeps, UsageSource, BillingPeriodUsage, SyncReport } from './usage-sync';
export { migrateBilling, BILLING_PART } from './schema';
export { createStripeBilling } from './stripe-billing';
export type { StripeBilling, StripeSettings, Invoice, WebhookOutcome } from './stripe-billing';
export { createCredits, debitOf, CREDITS_OUT_REASON } from './credits';
export type { Credits, CreditSettings } from './credits';
export { createBillingService } from './billing-service';
export type { BillingService } from './billing-service';
