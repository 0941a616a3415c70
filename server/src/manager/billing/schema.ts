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

/** Per account: the BYOK switch, the platform subscription and the last payment, and whether AI calls are paused for want of credits. */
export interface BillingAccountsTable {
  account: string;
  byok: number;
  plan: string | null;
  subscription_id: string | null;
  subscription_status: string;
  /** `created` (unix seconds) of the Stripe event the subscription state came from: an older event never overwrites it. */
  subscription_at: number;
  payment_state: string;
  payment_at: number;
  /** 1 while the account's credits are used up (its instances' plan caps are 0). */
  paused: number;
  /** The last UTC month (`YYYY-MM`) whose monthly reset was done. */
  reset_period: string | null;
  updated_at: number;
}

/** Credits taken: usage (once per counted page of an instance's rows) or a monthly reset. */
export interface CreditDebitsTable {
  reference: string;
  account: string;
  micros: number;
  kind: string;
  created_at: number;
}

/** Per instance: the plan caps billing last put on its gateway (1: paused at $0). */
export interface InstanceCapsTable {
  instance_id: string;
  paused: number;
  applied_at: number;
  /** The account's credit share the gateway was last given (at cost, micros); null: no credit cap. */
  credit_micros: number | null;
  account: string | null;
}

declare module '../db/types' {
  interface ManagerTables {
    billing_usage: BillingUsageTable;
    usage_cursors: UsageCursorsTable;
    billing_customers: BillingCustomersTable;
    credit_grants: CreditGrantsTable;
    stripe_events: StripeEventsTable;
    billing_accounts: BillingAccountsTable;
    credit_debits: CreditDebitsTable;
    instance_caps: InstanceCapsTable;
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

/** Credits debited, the account's billing state (BYOK, subscription, payment, paused) and the caps put on each instance. */
const V3: Migration = (w) => [
  `CREATE TABLE billing_accounts (
     account              TEXT PRIMARY KEY,
     byok                 ${w.int} NOT NULL DEFAULT 0,
     plan                 TEXT,
     subscription_id      TEXT,
     subscription_status  TEXT NOT NULL DEFAULT 'none',
     subscription_at      ${w.int} NOT NULL DEFAULT 0,
     payment_state        TEXT NOT NULL DEFAULT 'none',
     payment_at           ${w.int} NOT NULL DEFAULT 0,
     paused               ${w.int} NOT NULL DEFAULT 0,
     reset_period         TEXT,
     updated_at           ${w.int} NOT NULL
   )`,
  `CREATE TABLE credit_debits (
     reference   TEXT PRIMARY KEY,
     account     TEXT NOT NULL,
     micros      ${w.int} NOT NULL CHECK (micros > 0),
     kind        TEXT NOT NULL,
     created_at  ${w.int} NOT NULL
   )`,
  'CREATE INDEX credit_debits_account ON credit_debits(account)',
  `CREATE TABLE instance_caps (
     instance_id  TEXT PRIMARY KEY,
     paused       ${w.int} NOT NULL,
     applied_at   ${w.int} NOT NULL
   )`,
];

/** Each instance's credit share, kept where a restart of the manager finds it (an asleep gateway still holds it). */
const V4: Migration = (w) => ['ALTER TABLE instance_caps ADD COLUMN account TEXT', `ALTER TABLE instance_caps ADD COLUMN credit_micros ${w.int}`];

export const BILLING_MIGRATIONS: readonly Migration[] = [V1, V2, V3, V4];

export async function migrateBilling(db: ManagerDb): Promise<void> {
  await migratePart(db, BILLING_PART, BILLING_MIGRATIONS);
}
