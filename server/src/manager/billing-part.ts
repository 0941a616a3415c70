/**
 * Wiring of the billing part: usage is pulled from every live instance's
 * gateway through the instances part's gateway link, on the leader only
 * (`cluster.whileLeader`), every commit fenced by the leader lease.
 */
import { createStripeBilling, createUsageSync, migrateBilling } from './billing';
import type { StripeBilling, StripeSettings, UsageSync } from './billing';
import type { ManagerDb } from './db';
import type { Logger } from './gateway-parts';
import type { InstanceService } from './instances';

export interface BillingPartOptions {
  db: ManagerDb;
  now: () => number;
  logger: Logger;
  instances: Pick<InstanceService, 'listLive' | 'usagePage'>;
  /** How often the leader pulls usage (default 60 s). */
  syncEveryMs?: number;
  /** Usage rows per pull (default 500). */
  pageSize?: number;
  /** Stripe (absent: billing off). */
  stripe?: StripeSettings | undefined;
}

export interface BillingPart {
  usage: UsageSync;
  /** Null when Stripe is not configured: billing is off. */
  stripe: StripeBilling | null;
}

declare module './trpc' {
  interface ManagerServices {
    /** The billing part (absent only in tests of other parts). */
    billing?: BillingPart;
  }
}

export async function createBillingPart(opts: BillingPartOptions): Promise<BillingPart> {
  await migrateBilling(opts.db);
  const usage = createUsageSync({
    db: opts.db,
    now: opts.now,
    logger: opts.logger,
    sources: async () => (await opts.instances.listLive()).map((i) => ({ instanceId: i.id, account: i.owner })),
    pull: (id, after, limit) => opts.instances.usagePage(id, after, limit),
    ...(opts.syncEveryMs === undefined ? {} : { everyMs: opts.syncEveryMs }),
    ...(opts.pageSize === undefined ? {} : { pageSize: opts.pageSize }),
  });
  const stripe = opts.stripe ? createStripeBilling({ db: opts.db, settings: opts.stripe, now: opts.now, logger: opts.logger }) : null;
  return { usage, stripe };
}
