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
import { AppError } from '@autoclaw/shared';
import type StripeClient from 'stripe';
import type { ManagerDb } from '../db';
import type { Logger } from '../gateway-parts';

export interface StripeSettings {
  apiKey: string;
  webhookSecret: string;
  /** The API root; default Stripe's own. */
  api?: { host: string; port: number; protocol: 'http' | 'https' };
  /** Seconds a webhook's signed timestamp may lag (default 300, Stripe's). */
  toleranceSec?: number;
}

/** One top-up: at least $5, at most $1,000, in whole cents. */
export const TOP_UP_MIN_CENTS = 500;
export const TOP_UP_MAX_CENTS = 100_000;
/** 1 cent = 10,000 micro-dollars. */
const MICROS_PER_CENT = 10_000;

export interface Invoice {
  id: string;
  number: string | null;
  status: string | null;
  amountPaidCents: number;
  currency: string;
  created: number;
  url: string | null;
}

export interface WebhookOutcome {
  /** The event was handled before: acknowledged, nothing done. */
  duplicate: boolean;
  /** Micro-dollars granted by this event (0 when none). */
  grantedMicros: number;
}

export interface StripeBilling {
  /** The account's Stripe customer id (made on first need, once). */
  customerOf(account: string): Promise<string>;
  /** A Checkout session for a credit top-up of `cents`; the user pays at its URL. */
  topUp(account: string, cents: number, urls: { successUrl: string; cancelUrl: string }): Promise<{ sessionId: string; url: string }>;
  /** Verifies and handles one webhook delivery (raw body as received, its Stripe-Signature header). */
  handleWebhook(rawBody: string, signature: string | undefined): Promise<WebhookOutcome>;
  /** Credits bought, in micro-dollars. */
  creditsBought(account: string): Promise<number>;
  invoices(account: string): Promise<Invoice[]>;
}

type Stripe = StripeClient;

export function createStripeBilling(deps: { db: ManagerDb; settings: StripeSettings; now: () => number; logger: Logger }): StripeBilling {
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

  return {
    customerOf,
    async topUp(account, cents, urls) {
      if (!Number.isInteger(cents) || cents < TOP_UP_MIN_CENTS || cents > TOP_UP_MAX_CENTS) {
        throw new AppError('BAD_REQUEST', `a top-up is between $${TOP_UP_MIN_CENTS / 100} and $${TOP_UP_MAX_CENTS / 100}, in whole cents`);
      }
      const customer = await customerOf(account);
      try {
        const session = await (await stripe()).checkout.sessions.create({
          mode: 'payment',
          customer,
          success_url: urls.successUrl,
          cancel_url: urls.cancelUrl,
          line_items: [{ quantity: 1, price_data: { currency: 'usd', unit_amount: cents, product_data: { name: 'AutoClaw AI credits' } } }],
          metadata: { kind: 'topup', account },
        });
        if (!session.url) throw new AppError('PROVIDER_UNAVAILABLE', 'Stripe gave no payment page for the top-up');
        return { sessionId: session.id, url: session.url };
      } catch (err) {
        throw stripeFailure(err);
      }
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
      return db.tx(async (t) => {
        const seen = await t.selectFrom('stripe_events').select('id').where('id', '=', event.id).executeTakeFirst();
        if (seen) return { duplicate: true, grantedMicros: 0 };
        await t.insertInto('stripe_events').values({ id: event.id, type: event.type, received_at: now() }).execute();
        if (!grant) return { duplicate: false, grantedMicros: 0 };
        const inserted = await t
          .insertInto('credit_grants')
          .values({ reference: grant.reference, account: grant.account, micros: grant.micros, event_id: event.id, granted_at: now() })
          .onConflict((oc) => oc.column('reference').doNothing())
          .executeTakeFirst();
        const granted = Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0 ? grant.micros : 0;
        if (granted > 0) logger.info('credits granted', { account: grant.account, micros: granted, event: event.id });
        return { duplicate: false, grantedMicros: granted };
      });
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
