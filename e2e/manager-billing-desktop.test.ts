/**
 * Topping up from the desktop app: the Billing page inside the app's shell
 * (its own origin, the real preload bridge and main's IPC handlers) asks main
 * to open Stripe Checkout in the system browser (shell.openExternal behind
 * checkout-opener.ts); the test is that browser: it follows the checkout URL
 * against the local Stripe server, pays, the server's signed webhook reaches
 * the manager, and Checkout returns to the manager's /billing/return page.
 * Meanwhile the app never left its page and shows the balance grown — once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startStripeApiServer } from '../server/src/testing/stripe-api-server';
import type { StripeApiServer } from '../server/src/testing/stripe-api-server';
import { launchChromium } from './support/browser';
import { startDesktopShell, type DesktopShell } from './support/desktop-shell';
import { makeDataDir, removeDataDir } from './support/gateway-process';
import { startManager, type ManagerProcess } from './support/manager-process';
import { fillCredentials } from './support/manager-ui';
import { waitOnline } from './support/webchat';

const API_KEY = 'sk_test_e2e_desktop_billing';
const SECRET = 'whsec_e2e_desktop_billing';

describe('the Billing page in the desktop app: top up in the system browser', () => {
  let dataDir = '';
  let stripe: StripeApiServer;
  let shell: DesktopShell;
  let manager: ManagerProcess;
  let browser: Browser;
  let context: BrowserContext;
  let app: Page;

  beforeAll(async () => {
    dataDir = makeDataDir();
    stripe = await startStripeApiServer({ apiKey: API_KEY });
    shell = await startDesktopShell({ tailscale: { state: 'running', guidance: 'This device is on your tailnet.' } });
    manager = await startManager({
      dataDir,
      signup: 'open',
      allowOrigins: [shell.origin],
      env: { STRIPE_API_KEY: API_KEY, STRIPE_WEBHOOK_SECRET: SECRET, AUTOCLAW_STRIPE_API_URL: stripe.url },
    });
    shell.useManager(manager.url);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 390, height: 800 } });
    app = await context.newPage();
    app.setDefaultTimeout(20_000);
    await shell.attach(app);
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await manager?.stop();
    await shell?.close();
    await stripe?.close();
    if (dataDir) removeDataDir(dataDir);
  });

  const balance = () => app.getByRole('status', { name: 'Credit balance' });

  it('Top up opens Checkout in the browser, the app stays put, and the balance grows once', { timeout: 90_000 }, async () => {
    await app.goto(`${shell.origin}/`);
    await app.getByRole('button', { name: 'Create an account' }).click();
    await fillCredentials(app, 'desk-pay@example.com', 'desktop password 2');
    await app.getByRole('button', { name: 'Create account' }).click();
    await waitOnline(app);
    await app.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Billing', exact: true }).click();
    await app.getByRole('heading', { name: 'Billing', level: 1 }).waitFor();
    await expect.poll(() => balance().textContent()).toBe('$0.00');

    await app.getByLabel('Top-up amount (USD)').fill('25');
    await app.getByRole('button', { name: 'Top up' }).click();
    await expect.poll(() => shell.checkouts.length).toBe(1);
    const checkoutUrl = shell.checkouts[0]!;
    expect(checkoutUrl.startsWith(`${stripe.url}/checkout/cs_test_`)).toBe(true);
    // The app did not navigate away; it says where the payment happens.
    expect(app.url().startsWith(shell.origin)).toBe(true);
    await app.getByRole('status', { name: 'Payment' }).getByText('Finish the payment in your browser').waitFor();

    // The system browser: Stripe's hosted page, paid; Stripe's signed webhook reaches the manager.
    const system = await context.newPage();
    await system.route(`${stripe.url}/checkout/**`, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Checkout</title><h1>Pay with Stripe</h1>' }));
    await system.goto(checkoutUrl);
    const sessionId = new URL(checkoutUrl).pathname.split('/').at(-1)!;
    const session = stripe.sessions.get(sessionId)!;
    expect(session).toMatchObject({ mode: 'payment', amount_total: 2_500, success_url: `${manager.url}/billing/return?checkout=done`, cancel_url: `${manager.url}/billing/return` });
    const [completed] = stripe.pay(sessionId);
    const hook = `${manager.url}/webhooks/stripe`;
    expect(await stripe.deliver(hook, completed!, { secret: SECRET })).toMatchObject({ status: 200, body: { duplicate: false } });
    await system.goto(String(session['success_url']));
    await system.getByRole('heading', { name: 'Payment received', level: 1 }).waitFor();
    await system.getByText('Payment received — you can go back to AutoClaw').waitFor();

    // Back in the app: the balance grew, without a reload.
    await expect.poll(() => balance().textContent(), { timeout: 15_000 }).toBe('$25.00');
    await app.getByRole('status', { name: 'Payment' }).getByText('Payment received — your credit is now $25.00.').waitFor();
    await app.getByRole('table', { name: 'Invoices' }).getByRole('cell', { name: '$25.00' }).waitFor();

    // Stripe delivers it again: acknowledged, not credited again.
    expect(await stripe.deliver(hook, completed!, { secret: SECRET })).toMatchObject({ status: 200, body: { duplicate: true } });
    const nav = app.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('button', { name: 'Chat', exact: true }).click();
    await nav.getByRole('button', { name: 'Billing', exact: true }).click();
    await app.getByRole('heading', { name: 'Billing', level: 1 }).waitFor();
    await expect.poll(() => balance().textContent()).toBe('$25.00');
    expect(shell.checkouts).toHaveLength(1);
    expect(await app.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  });

  it('a cancelled Checkout returns to a page that says nothing was charged', async () => {
    const system = await context.newPage();
    await system.goto(`${manager.url}/billing/return`);
    await system.getByRole('heading', { name: 'Checkout cancelled', level: 1 }).waitFor();
    expect(await system.locator('script').count()).toBe(0);
  });
});
