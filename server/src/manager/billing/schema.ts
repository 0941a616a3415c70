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

declare module '../db/types' {
  interface ManagerTables {
    billing_usage: BillingUsageTable;
    usage_cursors: UsageCursorsTable;
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

export const BILLING_MIGRATIONS: readonly Migration[] = [V1];

export async function migrateBilling(db: ManagerDb): Promise<void> {
  await migratePart(db, BILLING_PART, BILLING_MIGRATIONS);
}
