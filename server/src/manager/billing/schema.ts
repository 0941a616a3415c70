/**
 * The billing part's tables: what each account's instances spent per
 * billing period (a UTC calendar month), pulled from their gateways, and
 * the cursor of each instance's usage rows already counted.
 */
import { migratePart } from '../db';
import type { ManagerDb, Migration } from '../db';

export const BILLING_PART = 'billing';

/** Per account, period and model: sums of the gateway usage rows counted so far. */
export interface BillingUsageTable {
  account: string;
  /** `YYYY-MM` (UTC). */
  period: string;
  provider: string;
  model: string;
  calls: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  /** Integer micro-dollars of the priced calls. */
  cost_micros: number;
  unpriced_calls: number;
}

/** Per instance: the id of the last usage row counted (committed with the sums it added). */
export interface UsageCursorsTable {
  instance_id: string;
  account: string;
  after_id: number;
  rows: number;
  synced_at: number;
}

/** The Stripe customer of each account (one per account). */
export interface BillingCustomersTable {
  account: string;
  customer_id: string;
  created_at: number;
}

/** Credits bought: one row per paid Checkout session (its id is the key, so it is never granted twice). */
export interface CreditGrantsTable {
  reference: string;
  account: string;
  micros: number;
  event_id: string;
  granted_at: number;
}

/** Every Stripe event handled, by id: a redelivered event is acknowledged and ignored. */
export interface StripeEventsTable {
  id: string;
  type: string;
  received_at: number;
}

declare module '../db/types' {
  interface ManagerTables {
    billing_usage: BillingUsageTable;
    usage_cursors: UsageCursorsTable;
    billing_customers: BillingCustomersTable;
    credit_grants: CreditGrantsTable;
    stripe_events: StripeEventsTable;
  }
}

const V1: Migration = (w) => [
  `CREATE TABLE billing_usage (
     account             TEXT NOT NULL,
     period              TEXT NOT NULL,
     provider            TEXT NOT NULL,
     model               TEXT NOT NULL,
     calls               ${w.int} NOT NULL,
     input_tokens        ${w.int} NOT NULL,
     output_tokens       ${w.int} NOT NULL,
     cache_read_tokens   ${w.int} NOT NULL,
     cache_write_tokens  ${w.int} NOT NULL,
     cost_micros         ${w.int} NOT NULL,
     unpriced_calls      ${w.int} NOT NULL,
     PRIMARY KEY (account, period, provider, model)
   )`,
  `CREATE TABLE usage_cursors (
     instance_id  TEXT PRIMARY KEY,
     account      TEXT NOT NULL,
     after_id     ${w.int} NOT NULL,
     rows         ${w.int} NOT NULL,
     synced_at    ${w.int} NOT NULL
   )`,
];

/** Stripe: customers, credits granted (keyed by the paid session), events handled. */
const V2: Migration = (w) => [
  `CREATE TABLE billing_customers (
     account      TEXT PRIMARY KEY,
     customer_id  TEXT NOT NULL UNIQUE,
     created_at   ${w.int} NOT NULL
   )`,
  `CREATE TABLE credit_grants (
     reference   TEXT PRIMARY KEY,
     account     TEXT NOT NULL,
     micros      ${w.int} NOT NULL CHECK (micros > 0),
     event_id    TEXT NOT NULL,
     granted_at  ${w.int} NOT NULL
   )`,
  'CREATE INDEX credit_grants_account ON credit_grants(account)',
  `CREATE TABLE stripe_events (
     id           TEXT PRIMARY KEY,
     type         TEXT NOT NULL,
     received_at  ${w.int} NOT NULL
   )`,
];

export const BILLING_MIGRATIONS: readonly Migration[] = [V1, V2];

export async function migrateBilling(db: ManagerDb): Promise<void> {
  await migratePart(db, BILLING_PART, BILLING_MIGRATIONS);
}
