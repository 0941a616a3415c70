/**
 * Billing through the real `stripe` SDK against a local server speaking
 * Stripe's API, and Stripe's signed webhooks at the manager's
 * POST /webhooks/stripe: a top-up's credit is granted once — whatever is
 * replayed, duplicated, delivered out of order or at once — and a bad
 * signature or a stale timestamp changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStripeApiServer, stripeSignatureHeader } from '../../testing';
import type { StripeApiServer } from '../../testing';
import { silentLogger } from '../gateway-parts';
import { startTestManager } from '../test-kit';
import type { TestManager } from '../test-kit';
import { createStripeBilling } from './stripe-billing';
import type { StripeBilling } from './stripe-billing';

const API_KEY = 'sk_test_autoclaw';
const SECRET = 'whsec_test_autoclaw';
const ANN = 'ann@example.com';
const DAN = 'dan@example.com';
const URLS = { successUrl: 'http://127.0.0.1/billing?paid=1', cancelUrl: 'http://127.0.0.1/billing' };

describe('billing with Stripe', () => {
  let stripe: StripeApiServer;
  let t: TestManager;
  let billing: StripeBilling;
  let hook: string;
  beforeAll(async () => {
    stripe = await startStripeApiServer({ apiKey: API_KEY });
    t = await startTestManager({ config: { stripe: { apiKey: API_KEY, webhookSecret: SECRET, api: stripe.sdk } } });
    billing = t.manager.services.billing!.stripe!;
    hook = `${t.url}/webhooks/stripe`;
  });
  afterAll(async () => {
    await t.close();
    await stripe.close();
  });

  it('a top-up is a Checkout payment of the account’s one customer; paid, its webhook grants the credit exactly once', async () => {
    const first = await billing.topUp(ANN, 2_500, URLS);
    expect(first.url).toContain(first.sessionId);
    const second = await billing.topUp(ANN, 1_000, URLS);
    expect(stripe.customers.size).toBe(1);
    const created = stripe.requests.filter((r) => r.method === 'POST' && r.path === '/v1/checkout/sessions');
    expect(created).toHaveLength(2);
    // Form-encoded, as Stripe reads it.
    expect(created[0]!.headers['content-type']).toContain('application/x-www-form-urlencoded');
    expect(new URLSearchParams(created[0]!.text).get('line_items[0][price_data][unit_amount]')).toBe('2500');

    const [completed, intent] = stripe.pay(first.sessionId);
    // Bad signature, then a stale timestamp: refused, nothing changed.
    const before = await t.dump();
    expect((await stripe.deliver(hook, completed!, { secret: 'whsec_wrong' })).status).toBe(401);
    expect((await stripe.deliver(hook, completed!, { secret: SECRET, signature: 't=1,v1=00' })).status).toBe(401);
    const stale = await stripe.deliver(hook, completed!, { secret: SECRET, timestampSec: Math.floor(Date.now() / 1000) - 600 });
    expect(stale).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED', message: expect.stringContaining('too old') } } });
    expect(await t.dump()).toBe(before);
    expect(await billing.creditsBought(ANN)).toBe(0);

    // Out of order: the payment intent's event first (no credit), then the session's.
    expect((await stripe.deliver(hook, intent!, { secret: SECRET })).status).toBe(200);
    expect(await billing.creditsBought(ANN)).toBe(0);
    expect(await stripe.deliver(hook, completed!, { secret: SECRET })).toMatchObject({ status: 200, body: { received: true, duplicate: false } });
    expect(await billing.creditsBought(ANN)).toBe(25_000_000);
    // Replayed, five at once, and a second event about the same payment: still once.
    const replays = await Promise.all(Array.from({ length: 5 }, () => stripe.deliver(hook, completed!, { secret: SECRET })));
    expect(replays.every((r) => r.status === 200 && (r.body as { duplicate: boolean }).duplicate)).toBe(true);
    const again = { ...completed!, id: 'evt_test_again', type: 'checkout.session.async_payment_succeeded' };
    expect(await stripe.deliver(hook, again, { secret: SECRET })).toMatchObject({ status: 200, body: { duplicate: false } });
    expect(await billing.creditsBought(ANN)).toBe(25_000_000);

    // The second top-up, paid: its own credit, once.
    const [completed2] = stripe.pay(second.sessionId);
    await Promise.all([stripe.deliver(hook, completed2!, { secret: SECRET }), stripe.deliver(hook, completed2!, { secret: SECRET })]);
    expect(await billing.creditsBought(ANN)).toBe(35_000_000);
    expect((await billing.invoices(ANN)).map((i) => i.amountPaidCents).sort()).toEqual([1_000, 2_500]);
  });

  it('an unpaid session, a session of no known customer, or a signed header over another body grant nothing', async () => {
    const { sessionId } = await billing.topUp('bob@example.com', 500, URLS);
    const [completed] = stripe.pay(sessionId);
    const unpaid = { ...completed!, id: 'evt_test_unpaid', data: { object: { ...completed!.data.object, payment_status: 'unpaid' } } };
    expect((await stripe.deliver(hook, unpaid, { secret: SECRET })).status).toBe(200);
    const stranger = { ...completed!, id: 'evt_test_stranger', data: { object: { ...completed!.data.object, id: 'cs_test_other', customer: 'cus_test_nobody' } } };
    expect((await stripe.deliver(hook, stranger, { secret: SECRET })).status).toBe(200);
    expect(await billing.creditsBought('bob@example.com')).toBe(0);
    // A valid signature of one body sent with another.
    const res = await fetch(hook, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': stripeSignatureHeader('{}', SECRET, Math.floor(Date.now() / 1000)) },
      body: JSON.stringify(completed),
    });
    expect(res.status).toBe(401);
    expect(await billing.creditsBought('bob@example.com')).toBe(0);
  });

  it('bad top-ups are typed errors that change nothing; Stripe refusing the key is a typed error too', async () => {
    const before = await t.dump();
    const calls = stripe.requests.length;
    for (const cents of [0, 499, 100_001, 12.5, Number.NaN, Number.POSITIVE_INFINITY, -500]) {
      await expect(billing.topUp('carol@example.com', cents, URLS)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    }
    expect(await t.dump()).toBe(before);
    expect(stripe.requests.length).toBe(calls);
    const wrongKey = createStripeBilling({ db: t.manager.services.db, settings: { apiKey: 'sk_test_wrong', webhookSecret: SECRET, api: stripe.sdk }, now: Date.now, logger: silentLogger });
    await expect(wrongKey.topUp('carol@example.com', 500, URLS)).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(await t.dump()).toBe(before);
  });

  const status = () => t.manager.services.billing!.service.status(DAN);
  const send = async (event: Parameters<StripeApiServer['deliver']>[1]) => {
    const res = await stripe.deliver(hook, event, { secret: SECRET });
    expect(res.status).toBe(200);
  };

  it('a subscription Checkout sets the plan; events in any order, replayed or stale, never move the state back; no credit is granted', async () => {
    const { sessionId } = await billing.subscribe(DAN, 'pro', URLS);
    const created = stripe.requests.filter((r) => r.path === '/v1/checkout/sessions').at(-1)!;
    const form = new URLSearchParams(created.text);
    expect(form.get('mode')).toBe('subscription');
    expect(form.get('line_items[0][price_data][recurring][interval]')).toBe('month');
    expect(form.get('line_items[0][price_data][unit_amount]')).toBe('2900');
    expect(form.get('subscription_data[metadata][plan]')).toBe('pro');

    const [completed, subCreated, paid] = stripe.pay(sessionId);
    const subId = (completed!.data.object as { subscription: string }).subscription;
    // Later events first: the invoice and the subscription's own event, then the checkout's.
    await send(paid!);
    await send(subCreated!);
    await send(completed!);
    expect(await status()).toMatchObject({ plan: 'pro', subscription: 'active', payment: 'paid', creditMicros: 0 });

    // Renewal fails, then recovers: each newer event wins; an older one replayed changes nothing.
    const later = (e: typeof paid, seconds: number) => ({ ...e!, created: e!.created + seconds });
    const failed = later(stripe.renew(subId, 'failed'), 100);
    const pastDue = later(stripe.changeSubscription(subId, 'past_due'), 100);
    await send(failed);
    await send(pastDue);
    expect(await status()).toMatchObject({ subscription: 'past_due', payment: 'failed' });
    await send({ ...subCreated!, id: 'evt_test_old_active' }); // an old event, delivered late under a new id
    await send(paid!); // a replay
    expect(await status()).toMatchObject({ subscription: 'past_due', payment: 'failed' });
    const recovered = later(stripe.renew(subId, 'paid'), 200);
    const active = later(stripe.changeSubscription(subId, 'active'), 200);
    await send(active);
    await send(recovered);
    expect(await status()).toMatchObject({ subscription: 'active', payment: 'paid' });

    // Canceled stays canceled, even when an "active" event of the same second arrives after it.
    const canceled = later(stripe.changeSubscription(subId, 'canceled'), 300);
    expect(canceled.type).toBe('customer.subscription.deleted');
    await send(canceled);
    await send({ ...active, id: 'evt_test_same_second', created: canceled.created });
    await send({ ...active, id: 'evt_test_newer_active', created: canceled.created + 10 });
    expect(await status()).toMatchObject({ plan: 'pro', subscription: 'canceled' });
    expect(await billing.creditsBought(DAN)).toBe(0);
  });

  it('an unknown plan and a subscription price in payment mode are refused; nothing changed', async () => {
    const before = await t.dump();
    await expect(billing.subscribe(DAN, 'gold' as 'pro', URLS)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(await t.dump()).toBe(before);
    // The local server answers as Stripe does when a recurring price is sent in payment mode.
    const res = await fetch(`${stripe.url}/v1/checkout/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'mode=payment&success_url=http%3A%2F%2Fx&line_items[0][quantity]=1&line_items[0][price_data][unit_amount]=100&line_items[0][price_data][recurring][interval]=month',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error', message: expect.stringContaining('recurring price') } });
  });
});

describe('billing without Stripe', () => {
  it('is off: the webhook says so and changes nothing', async () => {
    const t = await startTestManager();
    try {
      expect(t.manager.services.billing?.stripe).toBeNull();
      const res = await fetch(`${t.url}/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(res.status).toBe(412);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_CONFIGURED');
    } finally {
      await t.close();
    }
  });
});
