/**
 * Billing through Stripe (the real `stripe` SDK, loaded on first use): a
 * customer per account, credit top-ups as one-off Checkout payments,
 * invoices listed, and the webhook that grants the credit. Configured by
 * STRIPE_API_KEY and STRIPE_WEBHOOK_SECRET; the API root (host, port,
 * protocol) is a setting so tests point the SDK at a local server.
 *
 * A credit is granted once: webhooks are verified (signature and a
 * timestamp tolerance), each event id is handled once, and the grant's key
 * is the paid Checkout session — so a replayed event, a second event about
 * the same payment, or events in any order never grant it twice.
 */
import { AppError, BILLING_PLANS, TOP_UP_MAX_CENTS, TOP_UP_MIN_CENTS } from '@autoclaw/shared';
import type { BillingInvoice, BillingPlan } from '@autoclaw/shared';
import type StripeClient from 'stripe';
import type { Executor, ManagerDb } from '../db';
import type { Logger } from '../gateway-parts';
import { applyPayment, applySubscription, ensureBillingAccount, planOf, subscriptionStateOf } from './account-state';

export interface StripeSettings {
  apiKey: string;
  webhookSecret: string;
  /** The API root; default Stripe's own. */
  api?: { host: string; port: number; protocol: 'http' | 'https' };
  /** Seconds a webhook's signed timestamp may lag (default 300, Stripe's). */
  toleranceSec?: number;
}

/** 1 cent = 10,000 micro-dollars. */
const MICROS_PER_CENT = 10_000;

export type Invoice = BillingInvoice;

export interface WebhookOutcome {
  /** The event was handled before: acknowledged, nothing done. */
  duplicate: boolean;
  /** Micro-dollars granted by this event (0 when none). */
  grantedMicros: number;
  /** The account the event was about (when known). */
  account?: string;
}

type Urls = { successUrl: string; cancelUrl: string };

export interface StripeBilling {
  /** The account's Stripe customer id (made on first need, once). */
  customerOf(account: string): Promise<string>;
  /** A Checkout session for a credit top-up of `cents`; the user pays at its URL. */
  topUp(account: string, cents: number, urls: Urls): Promise<{ sessionId: string; url: string }>;
  /** A Checkout session (mode subscription) for the platform plan; the webhooks set the plan and its state. */
  subscribe(account: string, plan: BillingPlan, urls: Urls): Promise<{ sessionId: string; url: string }>;
  /** Verifies and handles one webhook delivery (raw body as received, its Stripe-Signature header). */
  handleWebhook(rawBody: string, signature: string | undefined): Promise<WebhookOutcome>;
  /** Credits bought, in micro-dollars. */
  creditsBought(account: string): Promise<number>;
  invoices(account: string): Promise<Invoice[]>;
}

type Stripe = StripeClient;

export function createStripeBilling(deps: {
  db: ManagerDb;
  settings: StripeSettings;
  now: () => number;
  logger: Logger;
  /** After an event changed what an account may spend (a credit granted): the caps follow at once. */
  onAccountChanged?: (account: string) => Promise<void>;
}): StripeBilling {
  const { db, settings, now, logger } = deps;
  let client: Promise<Stripe> | null = null;
  const stripe = (): Promise<Stripe> =>
    (client ??= import('stripe').then(({ default: Stripe }) => {
      const api = settings.api;
      return new Stripe(settings.apiKey, { maxNetworkRetries: 2, timeout: 20_000, ...(api ? { host: api.host, port: api.port, protocol: api.protocol } : {}) });
    }));

  const stripeFailure = (err: unknown): AppError => {
    if (AppError.is(err)) return err;
    const e = err as { type?: string; message?: string; statusCode?: number };
    if (e.type === 'StripeInvalidRequestError') return new AppError('BAD_REQUEST', `Stripe refused the request: ${e.message ?? ''}`, { cause: err });
    return new AppError('PROVIDER_UNAVAILABLE', 'Stripe could not be reached; try again', { cause: err });
  };

  async function customerOf(account: string): Promise<string> {
    const known = await db.k.selectFrom('billing_customers').select('customer_id').where('account', '=', account).executeTakeFirst();
    if (known) return known.customer_id;
    let created: string;
    try {
      // One key per account: two replicas (or a retry) asking at once get the same customer.
      const customer = await (await stripe()).customers.create({ email: account, metadata: { account } }, { idempotencyKey: `autoclaw-customer-${account}` });
      created = customer.id;
    } catch (err) {
      throw stripeFailure(err);
    }
    await db.k
      .insertInto('billing_customers')
      .values({ account, customer_id: created, created_at: now() })
      .onConflict((oc) => oc.column('account').doNothing())
      .execute();
    const row = await db.k.selectFrom('billing_customers').select('customer_id').where('account', '=', account).executeTakeFirstOrThrow();
    return row.customer_id;
  }

  async function grantOf(event: StripeClient.Event): Promise<{ reference: string; account: string; micros: number } | null> {
    if (event.type !== 'checkout.session.completed' && event.type !== 'checkout.session.async_payment_succeeded') return null;
    const session = event.data.object;
    if (session.mode !== 'payment' || session.payment_status !== 'paid' || session.metadata?.['kind'] !== 'topup') return null;
    const customer = typeof session.customer === 'string' ? session.customer : (session.customer?.id ?? null);
    if (!customer || !session.amount_total || session.amount_total <= 0) return null;
    // The account is the customer's, as recorded here — never what the event's metadata claims alone.
    const owner = await db.k.selectFrom('billing_customers').select('account').where('customer_id', '=', customer).executeTakeFirst();
    if (!owner) return null;
    return { reference: session.id, account: owner.account, micros: session.amount_total * MICROS_PER_CENT };
  }

  const customerIdOf = (value: unknown): string | null =>
    typeof value === 'string' ? value : value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string' ? (value as { id: string }).id : null;
  const accountOfCustomer = async (customer: unknown): Promise<string | null> => {
    const id = customerIdOf(customer);
    if (!id) return null;
    const row = await db.k.selectFrom('billing_customers').select('account').where('customer_id', '=', id).executeTakeFirst();
    return row?.account ?? null;
  };

  /** The account an event is about (by its customer, as recorded here) and what it says of the subscription or payment. */
  async function stateOf(event: StripeClient.Event): Promise<{ account: string; apply: (t: Executor) => Promise<unknown> } | null> {
    const at = event.created;
    switch (event.type) {
      case 'checkout.session.completed': {
        const session = event.data.object;
        if (session.mode !== 'subscription' || session.metadata?.['kind'] !== 'subscription') return null;
        const account = await accountOfCustomer(session.customer);
        const id = customerIdOf(session.subscription);
        if (!account || !id) return null;
        const status = session.payment_status === 'paid' ? 'active' : 'incomplete';
        return { account, apply: (t) => applySubscription(t, account, { id, status, plan: planOf(session.metadata?.['plan']), at }, now()) };
      }
      case 'customer.subscription.created':
      case 'customer.subscription.updated':
      case 'customer.subscription.deleted': {
        const sub = event.data.object;
        const account = await accountOfCustomer(sub.customer);
        if (!account) return null;
        const status = event.type === 'customer.subscription.deleted' ? 'canceled' : subscriptionStateOf(sub.status);
        return { account, apply: (t) => applySubscription(t, account, { id: sub.id, status, plan: planOf(sub.metadata?.['plan']), at }, now()) };
      }
      case 'invoice.paid':
      case 'invoice.payment_failed': {
        const account = await accountOfCustomer(event.data.object.customer);
        if (!account) return null;
        const state = event.type === 'invoice.paid' ? 'paid' : 'failed';
        return { account, apply: (t) => applyPayment(t, account, state, at, now()) };
      }
      default:
        return null;
    }
  }

  async function checkout(account: string, params: StripeClient.Checkout.SessionCreateParams): Promise<{ sessionId: string; url: string }> {
    const customer = await customerOf(account);
    try {
      const session = await (await stripe()).checkout.sessions.create({ ...params, customer });
      if (!session.url) throw new AppError('PROVIDER_UNAVAILABLE', 'Stripe gave no payment page');
      return { sessionId: session.id, url: session.url };
    } catch (err) {
      throw stripeFailure(err);
    }
  }

  return {
    customerOf,
    async topUp(account, cents, urls) {
      if (!Number.isInteger(cents) || cents < TOP_UP_MIN_CENTS || cents > TOP_UP_MAX_CENTS) {
        throw new AppError('BAD_REQUEST', `a top-up is between $${TOP_UP_MIN_CENTS / 100} and $${TOP_UP_MAX_CENTS / 100}, in whole cents`);
      }
      return checkout(account, {
        mode: 'payment',
        success_url: urls.successUrl,
        cancel_url: urls.cancelUrl,
        line_items: [{ quantity: 1, price_data: { currency: 'usd', unit_amount: cents, product_data: { name: 'AutoClaw AI credits' } } }],
        metadata: { kind: 'topup', account },
      });
    },
    async subscribe(account, plan, urls) {
      const known = planOf(plan);
      if (!known) throw new AppError('BAD_REQUEST', `no plan "${String(plan)}" (plans: ${Object.keys(BILLING_PLANS).join(', ')})`);
      const { label, monthlyCents } = BILLING_PLANS[known];
      return checkout(account, {
        mode: 'subscription',
        success_url: urls.successUrl,
        cancel_url: urls.cancelUrl,
        line_items: [{ quantity: 1, price_data: { currency: 'usd', unit_amount: monthlyCents, recurring: { interval: 'month' }, product_data: { name: `AutoClaw ${label}` } } }],
        metadata: { kind: 'subscription', plan: known, account },
        subscription_data: { metadata: { plan: known, account } },
      });
    },
    async handleWebhook(rawBody, signature) {
      if (!signature) throw new AppError('UNAUTHORIZED', 'the webhook has no Stripe-Signature');
      let event: StripeClient.Event;
      try {
        event = (await stripe()).webhooks.constructEvent(rawBody, signature, settings.webhookSecret, settings.toleranceSec ?? 300, undefined, now());
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        throw new AppError('UNAUTHORIZED', /tolerance/i.test(message) ? 'the webhook is too old (timestamp outside the tolerance)' : 'the webhook signature does not verify', { cause: err });
      }
      const grant = await grantOf(event);
      const state = await stateOf(event);
      const outcome = await db.tx(async (t): Promise<WebhookOutcome> => {
        const seen = await t.selectFrom('stripe_events').select('id').where('id', '=', event.id).executeTakeFirst();
        if (seen) return { duplicate: true, grantedMicros: 0 };
        await t.insertInto('stripe_events').values({ id: event.id, type: event.type, received_at: now() }).execute();
        if (state) {
          await ensureBillingAccount(t, state.account, now());
          await state.apply(t);
        }
        if (!grant) return { duplicate: false, grantedMicros: 0, ...(state ? { account: state.account } : {}) };
        await ensureBillingAccount(t, grant.account, now());
        const inserted = await t
          .insertInto('credit_grants')
          .values({ reference: grant.reference, account: grant.account, micros: grant.micros, event_id: event.id, granted_at: now() })
          .onConflict((oc) => oc.column('reference').doNothing())
          .executeTakeFirst();
        const granted = Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0 ? grant.micros : 0;
        if (granted > 0) logger.info('credits granted', { account: grant.account, micros: granted, event: event.id });
        return { duplicate: false, grantedMicros: granted, account: grant.account };
      });
      if (outcome.grantedMicros > 0 && outcome.account && deps.onAccountChanged) {
        // The credit is committed; lifting the pause is best effort here and the leader's next round redoes it.
        await deps.onAccountChanged(outcome.account).catch((err: unknown) => logger.warn('credits: could not lift the pause yet', { err: err instanceof Error ? err.message : String(err) }));
      }
      return outcome;
    },
    async creditsBought(account) {
      const rows = await db.k.selectFrom('credit_grants').select('micros').where('account', '=', account).execute();
      return rows.reduce((n, r) => n + r.micros, 0);
    },
    async invoices(account) {
      const customer = await db.k.selectFrom('billing_customers').select('customer_id').where('account', '=', account).executeTakeFirst();
      if (!customer) return [];
      try {
        const list = await (await stripe()).invoices.list({ customer: customer.customer_id, limit: 24 });
        return list.data.map((i) => ({
          id: i.id ?? '',
          number: i.number ?? null,
          status: i.status ?? null,
          amountPaidCents: i.amount_paid,
          currency: i.currency,
          created: i.created * 1000,
          url: i.hosted_invoice_url ?? null,
        }));
      } catch (err) {
        throw stripeFailure(err);
      }
    },
  };
}
