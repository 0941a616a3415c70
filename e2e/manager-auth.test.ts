/**
 * Accounts in the manager UI against the real manager (`--signup open`):
 * sign-up provisions and pairs, the session survives a reload, sign-out
 * ends it, and every refusal is explained — a used setup link, a taken
 * email, wrong credentials, and the sign-in throttle (a short, growing wait
 * for whoever fails; a paired device gets in at once).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './support/browser';
import { makeDataDir, removeDataDir } from './support/gateway-process';
import { listInstances, startManager, type ManagerProcess } from './support/manager-process';
import { fillCredentials, openView, waitInstanceState } from './support/manager-ui';
import { waitOnline } from './support/webchat';

const EMAIL = 'new.user@example.com';
const PASSWORD = 'a long enough password';

describe('the manager UI: sign-up, sign-in, sign-out and clear refusals', () => {
  let dataDir = '';
  let manager: ManagerProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    dataDir = makeDataDir();
    manager = await startManager({ dataDir, signup: 'open' });
    browser = await launchChromium();
    page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(20_000);
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await manager?.stop();
    if (dataDir) removeDataDir(dataDir);
  });

  const alert = () => page.getByRole('alert');

  it('signs up: the new account gets its own instance and this browser pairs with it', async () => {
    await page.goto(manager.url);
    await page.getByRole('heading', { name: 'Sign in to AutoClaw' }).waitFor();
    await page.getByRole('button', { name: 'Create an account' }).click();
    await fillCredentials(page, EMAIL, 'short');
    await page.getByRole('button', { name: 'Create account' }).click();
    expect(await alert().innerText()).toMatch(/at least 8 characters/);

    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await waitOnline(page);
    await openView(page, 'Instance');
    await waitInstanceState(page, 'Running');
    const instances = await listInstances(dataDir);
    expect(instances.map((i) => [i.owner, i.state])).toEqual([[EMAIL, 'running']]);
  });

  it('stays signed in across a reload, and signing out ends the session', async () => {
    await page.reload();
    await waitOnline(page);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to AutoClaw' }).waitFor();
    // Signing out is not news: no "your session ended" notice.
    expect(await page.getByText('Your session ended').count()).toBe(0);
    expect(await page.evaluate(() => localStorage.getItem('autoclaw.manager.session'))).toBeNull();
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to AutoClaw' }).waitFor();
  });

  it('says the email is taken, and that a used-up setup link is no good', async () => {
    await page.getByRole('button', { name: 'Create an account' }).click();
    await fillCredentials(page, EMAIL, PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    expect(await alert().innerText()).toMatch(/account with this email already exists/);

    await page.goto(manager.setupLink ?? '');
    await page.getByText('This manager is already set up.').waitFor();
    await page.getByRole('button', { name: 'Go to sign-in' }).click();
    await page.getByRole('heading', { name: 'Sign in to AutoClaw' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/');
  });

  it('signs in again; wrong passwords are explained and slow that browser down briefly — never locking the owner out (issue 8, item 3)', async () => {
    await fillCredentials(page, EMAIL, PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await waitOnline(page);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to AutoClaw' }).waitFor();

    // Someone else at the same address (another browser: no key of this account's devices) guesses.
    const other = await (await browser.newContext()).newPage();
    other.setDefaultTimeout(20_000);
    await other.goto(manager.url);
    const otherAlert = () => other.getByRole('alert');
    for (let i = 0; i < 3; i++) {
      await fillCredentials(other, EMAIL, `wrong password ${i}`);
      await other.getByRole('button', { name: 'Sign in' }).click();
      await otherAlert().filter({ hasText: 'Wrong email or password.' }).waitFor();
      await other.getByRole('button', { name: 'Sign in' }).and(other.locator(':enabled')).waitFor();
    }
    // …and keeps guessing, waiting out each (growing) delay, until that address waits 8 s.
    for (let wrong = 3; wrong < 6; ) {
      const res = await fetch(`${manager.url}/trpc/auth.signIn`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: EMAIL, password: `guess ${wrong}` }) });
      const body = (await res.json()) as { error?: { data?: { appCode?: string; details?: { retryAfterMs?: number } } } };
      if (body.error?.data?.appCode === 'RATE_LIMITED') await new Promise((resolve) => setTimeout(resolve, body.error?.data?.details?.retryAfterMs ?? 1_000));
      else wrong += 1;
    }
    // That browser now waits seconds — not 15 minutes —
    await fillCredentials(other, EMAIL, PASSWORD);
    await other.getByRole('button', { name: 'Sign in' }).click();
    await otherAlert().filter({ hasText: /Too many failed sign-ins for this account from this address; try again in \d s\./ }).waitFor();

    // — while this browser, paired with the account's instance, signs in at once with the right password.
    await fillCredentials(page, EMAIL, PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await waitOnline(page);

    // And the other browser gets in with the right password once its short wait is over.
    await expect
      .poll(
        async () => {
          await fillCredentials(other, EMAIL, PASSWORD);
          await other.getByRole('button', { name: 'Sign in' }).and(other.locator(':enabled')).click();
          await Promise.race([
            otherAlert().waitFor({ timeout: 5_000 }).catch(() => undefined),
            other.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 5_000 }).catch(() => undefined),
          ]);
          return other.getByRole('button', { name: 'Sign out' }).count();
        },
        { timeout: 30_000, interval: 1_000 },
      )
      .toBe(1);
    await other.context().close();
    // The attacker's waits are real seconds (1 + 2 + 4), then the other browser's 8.
  }, 90_000);
});
