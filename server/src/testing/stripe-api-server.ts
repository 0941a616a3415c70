/**
 * A local server speaking the Stripe API paths the manager uses, for the
 * real `stripe` SDK pointed at it with its host/port/protocol options:
 * POST /v1/customers, POST /v1/checkout/sessions (modes payment and
 * subscription: a recurring price only in the latter), GET /v1/invoices — bodies
 * form-encoded (`metadata[k]=v`, `line_items[0][price_data][unit_amount]`),
 * `Authorization: Bearer <secret key>`, `Idempotency-Key` (a retried key
 * gets the first answer; the same key with other parameters is an
 * `idempotency_error`), errors as `{ error: { type, message, param? } }`.
 * It pays sessions (a payment intent and an invoice per payment) and sends
 * webhooks signed the way Stripe signs them:
 * `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<payload>")>`.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { sendJson, startApiServer } from './api-server-base';
import type { ApiRequest, ApiServer } from './api-server-base';

type Obj = Record<string, unknown>;

export interface StripeEvent {
  id: string;
  object: 'event';
  type: string;
  created: number;
  api_version: string;
  livemode: false;
  data: { object: Obj };
}

export interface StripeApiServer extends ApiServer {
  /** host/port/protocol for `new Stripe(key, { … })`. */
  readonly sdk: { host: string; port: number; protocol: 'http' };
  readonly customers: Map<string, Obj>;
  readonly sessions: Map<string, Obj>;
  readonly subscriptions: Map<string, Obj>;
  /** The subscription's status changes (`canceled`: deleted): its customer.subscription.updated or .deleted event, not yet delivered. */
  changeSubscription(subscriptionId: string, status: string): StripeEvent;
  /** The subscription's next invoice is paid (or its payment fails): invoice.paid or invoice.payment_failed, not yet delivered. */
  renew(subscriptionId: string, outcome: 'paid' | 'failed'): StripeEvent;
  /** The customer pays the Checkout session: the events Stripe would send (completed, then the payment intent's), not yet delivered. */
  pay(sessionId: string): StripeEvent[];
  /** Posts `event` to `url` signed with `secret` (at `timestampSec`, default now); `signature` replaces the header (bad signatures). */
  deliver(url: string, event: StripeEvent, opts: { secret: string; timestampSec?: number; signature?: string }): Promise<{ status: number; body: unknown }>;
}

/** The `Stripe-Signature` header of `payload` as Stripe makes it. */
export function stripeSignatureHeader(payload: string, secret: string, timestampSec: number): string {
  const v1 = createHmac('sha256', secret).update(`${timestampSec}.${payload}`).digest('hex');
  return `t=${timestampSec},v1=${v1}`;
}

/** `a[b][0][c]=v` → nested objects/arrays, as Stripe reads form bodies. */
export function parseStripeForm(text: string): Obj {
  const root: Obj = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const parts = key.split(/\[|\]\[|\]/).filter((p) => p !== '');
    let node: Obj = root;
    parts.forEach((part, i) => {
      if (i === parts.length - 1) node[part] = value;
      else node = (node[part] ??= {}) as Obj;
    });
  }
  return root;
}

const id = (prefix: string) => `${prefix}_test_${randomBytes(8).toString('hex')}`;
const nowSec = () => Math.floor(Date.now() / 1000);

function stripeError(res: ServerResponse, status: number, type: string, message: string, param?: string): void {
  sendJson(res, status, { error: { type, message, ...(param ? { param } : {}) } }, { 'request-id': id('req') });
}

export async function startStripeApiServer(opts: { apiKey: string }): Promise<StripeApiServer> {
  const customers = new Map<string, Obj>();
  const sessions = new Map<string, Obj>();
  const subscriptions = new Map<string, Obj>();
  const invoices: Obj[] = [];
  const invoice = (customer: unknown, amount: unknown, status: string, subscription: string | null): Obj => {
    const made = { id: id('in'), object: 'invoice', customer, subscription, status, amount_paid: status === 'paid' ? amount : 0, amount_due: amount, currency: 'usd', created: nowSec(), hosted_invoice_url: `${server.url}/invoice`, number: `T-${invoices.length + 1}` };
    invoices.push(made);
    return made;
  };
  const idempotent = new Map<string, { params: string; status: number; body: unknown }>();

  const routes: Record<string, (req: ApiRequest, params: Obj) => [number, unknown] | [number, string, string, string?]> = {
    'POST /v1/customers': (_req, p) => {
      const customer = { id: id('cus'), object: 'customer', email: p['email'] ?? null, name: p['name'] ?? null, metadata: p['metadata'] ?? {}, created: nowSec(), livemode: false };
      customers.set(customer.id, customer);
      return [200, customer];
    },
    'POST /v1/checkout/sessions': (_req, p) => {
      for (const required of ['mode', 'success_url']) {
        if (p[required] === undefined) return [400, 'invalid_request_error', `Missing required param: ${required}.`, required];
      }
      if (!['payment', 'subscription', 'setup'].includes(String(p['mode']))) return [400, 'invalid_request_error', `Invalid mode: must be one of payment, setup, or subscription`, 'mode'];
      if (p['customer'] !== undefined && !customers.has(String(p['customer']))) return [400, 'invalid_request_error', `No such customer: '${String(p['customer'])}'`, 'customer'];
      const items = Object.values((p['line_items'] ?? {}) as Obj) as Obj[];
      const recurring = items.some((item) => ((item['price_data'] ?? {}) as Obj)['recurring'] !== undefined);
      if (p['mode'] === 'subscription' && !recurring) return [400, 'invalid_request_error', 'You must provide at least one recurring price in `subscription` mode when using prices.', 'line_items'];
      if (p['mode'] === 'payment' && recurring) {
        return [400, 'invalid_request_error', 'You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.', 'line_items[0]'];
      }
      let total = 0;
      for (const item of items) {
        const price = (item['price_data'] ?? {}) as Obj;
        const amount = Number(price['unit_amount']);
        if (!Number.isInteger(amount) || amount < 1) return [400, 'invalid_request_error', 'Invalid integer: unit_amount', 'line_items[0][price_data][unit_amount]'];
        total += amount * Number(item['quantity'] ?? 1);
      }
      const session = {
        id: id('cs'),
        object: 'checkout.session',
        mode: p['mode'],
        customer: p['customer'] ?? null,
        client_reference_id: p['client_reference_id'] ?? null,
        metadata: p['metadata'] ?? {},
        amount_total: total,
        currency: 'usd',
        status: 'open',
        payment_status: 'unpaid',
        payment_intent: null,
        subscription: null as string | null,
        subscription_data: p['subscription_data'] ?? {},
        success_url: p['success_url'],
        cancel_url: p['cancel_url'] ?? null,
        url: `http://127.0.0.1/checkout/pay`,
        created: nowSec(),
        livemode: false,
      };
      session.url = `${server.url}/checkout/${session.id}`;
      sessions.set(session.id, session);
      return [200, session];
    },
    'GET /v1/invoices': (req) => {
      const customer = req.query.get('customer');
      const data = invoices.filter((i) => customer === null || i['customer'] === customer);
      return [200, { object: 'list', data, has_more: false, url: '/v1/invoices' }];
    },
  };

  const server = await startApiServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${opts.apiKey}`) {
      stripeError(res, 401, 'invalid_request_error', 'Invalid API Key provided: sk_****');
      return;
    }
    const route = routes[`${req.method} ${req.path}`];
    if (!route) {
      stripeError(res, 404, 'invalid_request_error', `Unrecognized request URL (${req.method}: ${req.path}).`);
      return;
    }
    const key = req.headers['idempotency-key'];
    const idemKey = typeof key === 'string' && req.method === 'POST' ? `${req.path} ${key}` : null;
    if (idemKey) {
      const seen = idempotent.get(idemKey);
      if (seen && seen.params !== req.text) {
        stripeError(res, 400, 'idempotency_error', `Keys for idempotent requests can only be used with the same parameters they were first used with.`);
        return;
      }
      if (seen) {
        sendJson(res, seen.status, seen.body, { 'idempotent-replayed': 'true' });
        return;
      }
    }
    const out = route(req, req.method === 'POST' ? parseStripeForm(req.text) : {});
    if (out.length === 2) {
      if (idemKey) idempotent.set(idemKey, { params: req.text, status: out[0], body: out[1] });
      sendJson(res, out[0], out[1]);
    } else {
      stripeError(res, out[0], out[1], out[2], out[3]);
    }
  });

  const event = (type: string, object: Obj): StripeEvent => ({ id: id('evt'), object: 'event', type, created: nowSec(), api_version: '2025-01-01', livemode: false, data: { object: structuredClone(object) } });

  return Object.assign(server, {
    sdk: { host: '127.0.0.1', port: server.port, protocol: 'http' as const },
    customers,
    sessions,
    subscriptions,
    pay(sessionId: string): StripeEvent[] {
      const session = sessions.get(sessionId);
      if (!session) throw new Error(`no session ${sessionId}`);
      if (session['mode'] === 'subscription') {
        const metadata = ((session['subscription_data'] ?? {}) as Obj)['metadata'] ?? {};
        const sub = { id: id('sub'), object: 'subscription', customer: session['customer'], status: 'active', metadata, created: nowSec(), livemode: false, amount: session['amount_total'] };
        subscriptions.set(sub.id, sub);
        Object.assign(session, { status: 'complete', payment_status: 'paid', subscription: sub.id });
        const paid = invoice(session['customer'], session['amount_total'], 'paid', sub.id);
        return [event('checkout.session.completed', session), event('customer.subscription.created', sub), event('invoice.paid', paid)];
      }
      const intent = { id: id('pi'), object: 'payment_intent', amount: session['amount_total'], currency: 'usd', status: 'succeeded', customer: session['customer'], metadata: session['metadata'] };
      Object.assign(session, { status: 'complete', payment_status: 'paid', payment_intent: intent.id });
      invoice(session['customer'], session['amount_total'], 'paid', null);
      return [event('checkout.session.completed', session), event('payment_intent.succeeded', intent)];
    },
    changeSubscription(subscriptionId: string, status: string): StripeEvent {
      const sub = subscriptions.get(subscriptionId);
      if (!sub) throw new Error(`no subscription ${subscriptionId}`);
      sub['status'] = status;
      return event(status === 'canceled' ? 'customer.subscription.deleted' : 'customer.subscription.updated', sub);
    },
    renew(subscriptionId: string, outcome: 'paid' | 'failed'): StripeEvent {
      const sub = subscriptions.get(subscriptionId);
      if (!sub) throw new Error(`no subscription ${subscriptionId}`);
      const made = invoice(sub['customer'], sub['amount'], outcome === 'paid' ? 'paid' : 'open', subscriptionId);
      return event(outcome === 'paid' ? 'invoice.paid' : 'invoice.payment_failed', made);
    },
    async deliver(url: string, e: StripeEvent, o: { secret: string; timestampSec?: number; signature?: string }) {
      const payload = JSON.stringify(e, null, 2);
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': o.signature ?? stripeSignatureHeader(payload, o.secret, o.timestampSec ?? nowSec()), 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' },
        body: payload,
      });
      return { status: res.status, body: (await res.json().catch(() => null)) as unknown };
    },
  });
}
