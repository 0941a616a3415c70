/** The billing part's door: usage aggregation per account and billing period. */
export { createUsageSync, billingPeriodOf } from './usage-sync';
export type { UsageSync, UsageSyncDeps, UsageSource, BillingPeriodUsage, SyncReport } from './usage-sync';
export { migrateBilling, BILLING_PART } from './schema';
export { createStripeBilling, TOP_UP_MIN_CENTS, TOP_UP_MAX_CENTS } from './stripe-billing';
export type { StripeBilling, StripeSettings, Invoice, WebhookOutcome } from './stripe-billing';
