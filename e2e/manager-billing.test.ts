/**
 * The Billing page in Chromium against the real manager (`autoclaw manager`
 * with STRIPE_API_KEY, STRIPE_WEBHOOK_SECRET and AUTOCLAW_STRIPE_API_URL
 * pointing the real `stripe` SDK at the local Stripe server): the owner tops
 * up, Checkout is completed by test code, the local server's signed webhook
 * reaches the manager, and the balance grows once — a replayed webhook does
 * not grow it again. In a 390-px-wide window, in dark mode, by keyboard.
 * The platform subscription's Checkout makes the plan active the same way;
 * a manager without Stripe says billing is off and offers no button.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startStripeApiServer } from '../server/src/testing/stripe-api-server';
import type { StripeApiServer } from '../server/src/testing/stripe-api-server';
import { launchChromium } from './support/browser';
import { makeDataDir, removeDataDir } from './support/gateway-process';
import { startManager, type ManagerProcess } from './support/manager-process';
import { fillCredentials } from './support/manager-ui';
import { waitOnline } from './support/webchat';

const OWNER = 'owner@example.com';
const PASSWORD = 'correct horse battery';
const API_KEY = 'sk_test_e2e_billing';
const SECRET = 'whsec_e2e_billing';

describe('the Billing page: top up through Stripe Checkout, credited once', () => {
  let dataDir = '';
  let stripe: StripeApiServer;
  let manager: ManagerProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    dataDir = makeDataDir();
    stripe = await startStripeApiServer({ apiKey: API_KEY });
    manager = await startManager({ dataDir, env: { STRIPE_API_KEY: API_KEY, STRIPE_WEBHOOK_SECRET: SECRET, AUTOCLAW_STRIPE_API_URL: stripe.url } });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 390, height: 800 }, colorScheme: 'dark' })).newPage();
    page.setDefaultTimeout(20_000);
    // Stripe's hosted payment page: the browser lands there; test code pays.
    await page.route(`${stripe.url}/checkout/**`, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Checkout</title><h1>Pay with Stripe</h1>' }));
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await manager?.stop();
    await stripe?.close();
    if (dataDir) removeDataDir(dataDir);
  });

  const balance = () => page.getByRole('status', { name: 'Credit balance' });
  const openBilling = () => page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Billing', exact: true }).click();

  it('shows the plan, payment state and an empty balance; tops up by keyboard and the webhook credits it once', async () => {
    await page.goto(manager.setupLink ?? '');
    await fillCredentials(page, OWNER, PASSWORD);
    await page.getByRole('button', { name: 'Create owner account' }).click();
    await waitOnline(page);

    await openBilling();
    await page.getByRole('heading', { name: 'Billing', level: 1 }).waitFor();
    await expect.poll(() => balance().textContent()).toBe('$0.00');
    expect(await page.getByLabel('Subscription state').textContent()).toBe('No plan yet');
    expect(await page.getByLabel('Payment state').textContent()).toBe('No payment yet');
    await page.getByText('No invoices yet.').waitFor();

    // A bad amount is explained, and nothing is asked of Stripe.
    const amount = page.getByLabel('Top-up amount (USD)');
    await amount.fill('2');
    await amount.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'Enter an amount from $5 to $1000.' }).waitFor();
    expect(stripe.sessions.size).toBe(0);

    await amount.fill('20');
    await amount.press('Enter');
    await page.waitForURL(`${stripe.url}/checkout/**`);
    const sessionId = new URL(page.url()).pathname.split('/').at(-1)!;
    const session = stripe.sessions.get(sessionId)!;
    expect(session).toMatchObject({ mode: 'payment', amount_total: 2_000 });

    const [completed] = stripe.pay(sessionId);
    const hook = `${manager.url}/webhooks/stripe`;
    expect(await stripe.deliver(hook, completed!, { secret: SECRET })).toMatchObject({ status: 200, body: { duplicate: false } });
    await page.goto(String(session['success_url']));
    await page.getByRole('heading', { name: 'Billing', level: 1 }).waitFor();
    await expect.poll(() => balance().textContent()).toBe('$20.00');
    await page.getByRole('table', { name: 'Invoices' }).getByRole('cell', { name: '$20.00' }).waitFor();

    // The top-up reached the instance as its credit cap: the Costs page shows it and leads back to Billing.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Costs', exact: true }).click();
    const credit = page.getByRole('status', { name: 'AI credit' });
    await credit.getByText('AI credit left: $20.00 of $20.00').waitFor();
    await credit.getByRole('button', { name: 'Top up on the Billing page' }).click();
    await page.getByRole('heading', { name: 'Billing', level: 1 }).waitFor();

    // Stripe delivers the same event again: acknowledged, not credited again.
    expect(await stripe.deliver(hook, completed!, { secret: SECRET })).toMatchObject({ status: 200, body: { duplicate: true } });
    await page.reload();
    await page.getByRole('heading', { name: 'Billing', level: 1 }).waitFor();
    await expect.poll(() => balance().textContent()).toBe('$20.00');

    // 390 px wide, dark: nothing runs off the side.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches)).toBe(true);
  });

  it('the BYOK switch is a checkbox the keyboard flips, and it stays', async () => {
    const byok = page.getByRole('checkbox', { name: /Use my own provider key/ });
    await byok.focus();
    await page.keyboard.press('Space');
    await expect.poll(() => byok.isChecked()).toBe(true);
    await page.getByText('You use your own provider key: credits are not used.').waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Billing', level: 1 }).waitFor();
    await expect.poll(() => page.getByRole('checkbox', { name: /Use my own provider key/ }).isChecked()).toBe(true);
  });

  it("subscribes to a plan through Checkout: Stripe's webhooks make it active, shown on the page", async () => {
    const before = stripe.sessions.size;
    await page.getByRole('button', { name: 'Subscribe to Pro ($29.00/month)' }).click();
    await page.waitForURL(`${stripe.url}/checkout/**`);
    const sessionId = new URL(page.url()).pathname.split('/').at(-1)!;
    expect(stripe.sessions.size).toBe(before + 1);
    const session = stripe.sessions.get(sessionId)!;
    expect(session).toMatchObject({ mode: 'subscription', amount_total: 2_900 });
    const hook = `${manager.url}/webhooks/stripe`;
    for (const event of stripe.pay(sessionId)) expect(await stripe.deliver(hook, event, { secret: SECRET })).toMatchObject({ status: 200 });
    await page.goto(String(session['success_url']));
    await page.getByRole('heading', { name: 'Billing', level: 1 }).waitFor();
    await expect.poll(() => page.getByLabel('Subscription state').textContent()).toBe('Active');
    expect(await page.locator('dd[aria-label="Plan"]').textContent()).toBe('Pro');
    expect(await page.getByLabel('Payment state').textContent()).toBe('Last invoice paid');
    // Subscribed: no more subscribe buttons; the top-up credit is untouched.
    expect(await page.getByRole('button', { name: /^Subscribe to/ }).count()).toBe(0);
    await expect.poll(() => balance().textContent()).toBe('$20.00');
    await page.getByRole('table', { name: 'Invoices' }).getByRole('cell', { name: '$29.00' }).waitFor();
  });
});

describe('the Billing page on a manager without Stripe: billing is off, said clearly', () => {
  let dataDir = '';
  let manager: ManagerProcess;
  let browser: Browser;

  beforeAll(async () => {
    dataDir = makeDataDir();
    manager = await startManager({ dataDir });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await manager?.stop();
    if (dataDir) removeDataDir(dataDir);
  });

  it('shows "billing is off" and no buttons that could not work', async () => {
    const page = await (await browser.newContext({ viewport: { width: 390, height: 800 } })).newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(manager.setupLink ?? '');
    await fillCredentials(page, OWNER, PASSWORD);
    await page.getByRole('button', { name: 'Create owner account' }).click();
    await waitOnline(page);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Billing', exact: true }).click();
    await page.getByRole('heading', { name: 'Billing', level: 1 }).waitFor();
    await page.getByRole('status', { name: 'Billing state' }).getByText('Billing is off on this manager').waitFor();
    const main = page.getByLabel('Billing', { exact: true });
    expect(await main.getByRole('button').count()).toBe(0);
    expect(await main.getByRole('textbox').count()).toBe(0);
    expect(await main.getByRole('checkbox').count()).toBe(0);
    expect(await page.getByRole('alert').count()).toBe(0);
  });
});
