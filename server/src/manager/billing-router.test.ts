/**
 * billing.* through the real tRPC client of a signed-in user, against the
 * real `stripe` SDK and the local Stripe server: status, a top-up's and a
 * subscription's Checkout URL, the BYOK switch, invoices — and bad input on
 * every procedure (negative, huge, NaN, fractional amounts, unknown plans,
 * foreign return URLs) is a typed error that changes nothing and calls no
 * one. Without Stripe, billing is off and says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStripeApiServer } from '../testing';
import type { StripeApiServer } from '../testing';
import { rawCall, startTestManager } from './test-kit';
import type { ManagerClient, TestManager } from './test-kit';

const API_KEY = 'sk_test_router';
const SECRET = 'whsec_test_router';

describe('billing procedures', () => {
  let stripe: StripeApiServer;
  let t: TestManager;
  let client: ManagerClient;
  let token: string;
  let back: string;
  beforeAll(async () => {
    stripe = await startStripeApiServer({ apiKey: API_KEY });
    t = await startTestManager({ config: { stripe: { apiKey: API_KEY, webhookSecret: SECRET, api: stripe.sdk }, credits: { marginBps: 1_500, monthlyReset: true } } });
    token = (await t.setupOwner()).token;
    client = t.client(token);
    back = `${t.url}/#billing`;
  });
  afterAll(async () => {
    await t.close();
    await stripe.close();
  });

  it('status, a top-up paid through its webhook, a subscription, BYOK and invoices', async () => {
    expect(await client.billing.status.query()).toEqual({
      enabled: true,
      plan: null,
      subscription: 'none',
      payment: 'none',
      creditMicros: 0,
      byok: false,
      paused: false,
      marginBps: 1_500,
      monthlyReset: true,
    });
    const { url } = await client.billing.topUp.mutate({ amountCents: 2_000, returnUrl: back });
    expect(url.startsWith(`${stripe.url}/checkout/cs_test_`)).toBe(true);
    const sessionId = url.split('/').at(-1)!;
    expect(stripe.sessions.get(sessionId)).toMatchObject({ success_url: `${t.url}/?checkout=done#billing` });
    const [completed] = stripe.pay(sessionId);
    await stripe.deliver(`${t.url}/webhooks/stripe`, completed!, { secret: SECRET });
    expect(await client.billing.status.query()).toMatchObject({ creditMicros: 20_000_000 });

    const sub = await client.billing.subscribe.mutate({ plan: 'personal', returnUrl: back });
    for (const event of stripe.pay(sub.url.split('/').at(-1)!)) await stripe.deliver(`${t.url}/webhooks/stripe`, event, { secret: SECRET });
    expect(await client.billing.status.query()).toMatchObject({ plan: 'personal', subscription: 'active', payment: 'paid', creditMicros: 20_000_000 });

    expect(await client.billing.setByok.mutate({ byok: true })).toMatchObject({ byok: true });
    expect(await client.billing.setByok.mutate({ byok: false })).toMatchObject({ byok: false });
    expect((await client.billing.invoices.query()).map((i) => i.amountPaidCents).sort((a, b) => a - b)).toEqual([900, 2_000]);
  });

  it('from the desktop app: Checkout returns to GET /billing/return, a plain page that says what happened (no script, no secret)', async () => {
    // The app's own origin is no page Stripe can open: refused, nothing asked of Stripe.
    const calls = stripe.requests.length;
    await expect(client.billing.topUp.mutate({ amountCents: 1_000, returnUrl: 'app://autoclaw/#billing' })).rejects.toMatchObject({ data: { appCode: 'BAD_REQUEST' } });
    expect(stripe.requests.length).toBe(calls);
    const { url } = await client.billing.topUp.mutate({ amountCents: 1_000, returnUrl: `${t.url}/billing/return` });
    const session = stripe.sessions.get(url.split('/').at(-1)!)!;
    expect(session).toMatchObject({ success_url: `${t.url}/billing/return?checkout=done`, cancel_url: `${t.url}/billing/return` });
    for (const [at, text] of [[String(session['success_url']), 'Payment received — you can go back to AutoClaw'], [String(session['cancel_url']), 'nothing was charged — you can go back to AutoClaw']] as const) {
      const res = await fetch(at);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const html = await res.text();
      expect(html).toContain(text);
      expect(html).not.toMatch(/<script|cs_test_|sk_test|whsec/);
    }
  });

  it('bad input on every procedure: a typed error, nothing changed, Stripe not called', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const cases: Array<[path: string, body: string, code: string]> = [
      ['billing.topUp', JSON.stringify({ amountCents: -500, returnUrl: back }), 'BAD_REQUEST'],
      ['billing.topUp', JSON.stringify({ amountCents: 0, returnUrl: back }), 'BAD_REQUEST'],
      ['billing.topUp', JSON.stringify({ amountCents: 499, returnUrl: back }), 'BAD_REQUEST'],
      ['billing.topUp', JSON.stringify({ amountCents: 100_001, returnUrl: back }), 'BAD_REQUEST'],
      ['billing.topUp', JSON.stringify({ amountCents: 1e300, returnUrl: back }), 'BAD_REQUEST'],
      ['billing.topUp', JSON.stringify({ amountCents: 1_000.5, returnUrl: back }), 'BAD_REQUEST'],
      ['billing.topUp', `{"amountCents":NaN,"returnUrl":"${back}"}`, 'BAD_REQUEST'],
      ['billing.topUp', JSON.stringify({ amountCents: null, returnUrl: back }), 'BAD_REQUEST'],
      ['billing.topUp', JSON.stringify({ amountCents: '1000', returnUrl: back }), 'BAD_REQUEST'],
      ['billing.topUp', JSON.stringify({ amountCents: 1_000, returnUrl: 'https://evil.example/phish' }), 'BAD_REQUEST'],
      ['billing.topUp', JSON.stringify({ amountCents: 1_000, returnUrl: 'javascript:alert(1)' }), 'BAD_REQUEST'],
      ['billing.topUp', JSON.stringify({ amountCents: 1_000, returnUrl: back, extra: 1 }), 'BAD_REQUEST'],
      ['billing.subscribe', JSON.stringify({ plan: 'gold', returnUrl: back }), 'BAD_REQUEST'],
      ['billing.subscribe', JSON.stringify({ plan: '__proto__', returnUrl: back }), 'BAD_REQUEST'],
      ['billing.subscribe', JSON.stringify({ plan: 'pro', returnUrl: `${back}${'x'.repeat(3_000)}` }), 'BAD_REQUEST'],
      ['billing.subscribe', JSON.stringify({ plan: 'pro' }), 'BAD_REQUEST'],
      ['billing.setByok', JSON.stringify({ byok: 'yes' }), 'BAD_REQUEST'],
      ['billing.setByok', JSON.stringify({ byok: 1 }), 'BAD_REQUEST'],
      ['billing.setByok', JSON.stringify(null), 'BAD_REQUEST'],
    ];
    const before = await t.dump();
    const calls = stripe.requests.length;
    for (const [path, body, code] of cases) {
      const res = await rawCall(t.url, 'POST', path, { body, headers: auth });
      expect({ path, body, code: (res.body as { error?: { data?: { appCode?: string } } }).error?.data?.appCode }).toEqual({ path, body, code });
    }
    for (const [path, method] of [['billing.status', 'GET'], ['billing.topUp', 'POST'], ['billing.subscribe', 'POST'], ['billing.setByok', 'POST'], ['billing.invoices', 'GET']] as const) {
      const res = await rawCall(t.url, method, path, { input: {} });
      expect((res.body as { error?: { data?: { appCode?: string } } }).error?.data?.appCode).toBe('UNAUTHORIZED');
    }
    expect(await t.dump()).toBe(before);
    expect(stripe.requests.length).toBe(calls);
  });
});

describe('billing procedures without Stripe', () => {
  it('status says billing is off; the rest is NOT_CONFIGURED and changes nothing', async () => {
    const t = await startTestManager();
    try {
      const client = t.client((await t.setupOwner()).token);
      expect(await client.billing.status.query()).toMatchObject({ enabled: false, creditMicros: 0, byok: false, paused: false });
      const before = await t.dump();
      await expect(client.billing.topUp.mutate({ amountCents: 1_000, returnUrl: `${t.url}/` })).rejects.toMatchObject({ data: { appCode: 'NOT_CONFIGURED' } });
      await expect(client.billing.subscribe.mutate({ plan: 'pro', returnUrl: `${t.url}/` })).rejects.toMatchObject({ data: { appCode: 'NOT_CONFIGURED' } });
      await expect(client.billing.setByok.mutate({ byok: true })).rejects.toMatchObject({ data: { appCode: 'NOT_CONFIGURED' } });
      await expect(client.billing.invoices.query()).rejects.toMatchObject({ data: { appCode: 'NOT_CONFIGURED' } });
      expect(await t.dump()).toBe(before);
    } finally {
      await t.close();
    }
  });
});
