/**
 * Wiring of the billing part: usage is pulled from every live instance's
 * gateway through the instances part's gateway link, on the leader only
 * (`cluster.whileLeader`), every commit fenced by the leader lease; each
 * counted page debits the owner's credits in the same transaction, and after
 * each round the instances' plan caps follow the balances.
 */
import { createBillingService, createCredits, createStripeBilling, createUsageSync, migrateBilling } from './billing';
import type { BillingService, CreditSettings, Credits, StripeBilling, StripeSettings, UsageSync } from './billing';
import type { ManagerDb } from './db';
import type { Logger } from './gateway-parts';
import type { InstanceService } from './instances';

export interface BillingPartOptions {
  db: ManagerDb;
  now: () => number;
  logger: Logger;
  instances: Pick<InstanceService, 'listLive' | 'ownedBy' | 'usagePage' | 'setPlanCaps'>;
  /** How often the leader pulls usage (default 60 s). */
  syncEveryMs?: number;
  /** Usage rows per pull (default 500). */
  pageSize?: number;
  /** Stripe (absent: billing off). */
  stripe?: StripeSettings | undefined;
  /** The margin and the monthly reset (default: no margin, no reset). */
  credits?: CreditSettings | undefined;
  /** Whether Checkout may send the user back to this URL (an origin the manager serves). */
  returnAllowed?: (url: string) => boolean;
}

export interface BillingPart {
  usage: UsageSync;
  /** Null when Stripe is not configured: billing is off. */
  stripe: StripeBilling | null;
  credits: Credits;
  service: BillingService;
}

declare module './trpc' {
  interface ManagerServices {
    /** The billing part (absent only in tests of other parts). */
    billing?: BillingPart;
  }
}

export async function createBillingPart(opts: BillingPartOptions): Promise<BillingPart> {
  await migrateBilling(opts.db);
  const settings = opts.credits ?? { marginBps: 0, monthlyReset: false };
  const sources = async () => (await opts.instances.listLive()).map((i) => ({ instanceId: i.id, account: i.owner }));
  const credits = createCredits({ db: opts.db, now: opts.now, logger: opts.logger, settings, sources, owned: async (account) => (await opts.instances.ownedBy(account)).map((i) => i.id), setPlanCaps: (id, caps) => opts.instances.setPlanCaps(id, caps) });
  // Credits count only where they can be bought: with billing off nothing is debited or paused.
  const billed = opts.stripe !== undefined;
  const usage = createUsageSync({
    db: opts.db,
    now: opts.now,
    logger: opts.logger,
    sources,
    pull: (id, after, limit) => opts.instances.usagePage(id, after, limit),
    ...(billed ? { onPage: (t, source, page) => credits.debitPage(t, source, page), afterRound: (fence) => credits.enforce({ fence }) } : {}),
    ...(opts.syncEveryMs === undefined ? {} : { everyMs: opts.syncEveryMs }),
    ...(opts.pageSize === undefined ? {} : { pageSize: opts.pageSize }),
  });
  const stripe = opts.stripe
    ? createStripeBilling({ db: opts.db, settings: opts.stripe, now: opts.now, logger: opts.logger, onAccountChanged: (account) => credits.enforce({ account }) })
    : null;
  const returnAllowed = opts.returnAllowed ?? (() => false);
  const service = createBillingService({ db: opts.db, stripe, credits, settings, returnAllowed: (url) => returnAllowed(url) });
  return { usage, stripe, credits, service };
}
