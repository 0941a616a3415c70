/**
 * "Restore into new instance" on the Instance page, in Chromium against a
 * real manager and real gateways: a backup becomes a second instance of the
 * account (its progress shown, the first one running on), the user switches
 * the app to it — the chat there has the history of the backup and answers
 * with the provider key restored from the backup's vault — and deletes the
 * old one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startOpenAIWireServer } from '../server/src/testing/openai-wire-server';
import type { WireServerHandle } from '../server/src/testing/wire-server-base';
import { launchChromium } from './support/browser';
import { makeDataDir, removeDataDir } from './support/gateway-process';
import { startManager, type ManagerProcess } from './support/manager-process';
import { fillCredentials, openView, useOpenAICompatible, waitInstanceState } from './support/manager-ui';
import { assistantMessages, lastAnswer, send, userMessages, waitOnline } from './support/webchat';

const API_KEY = 'sk-e2e-into-new-key';

describe('the Instance page: restore into a new instance, switch, delete the old one', () => {
  let dataDir = '';
  let wire: WireServerHandle;
  let manager: ManagerProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    dataDir = makeDataDir();
    wire = await startOpenAIWireServer({ apiKey: API_KEY });
    manager = await startManager({ dataDir, signup: 'open' });
    browser = await launchChromium();
    page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(30_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await manager?.stop();
    await wire?.close();
    if (dataDir) removeDataDir(dataDir);
  });

  const updates = () => page.getByRole('region', { name: 'Updates and backups' });
  const switcher = () => page.getByRole('region', { name: 'Your instances' });
  const shownId = () => page.getByRole('region', { name: 'Your instances' }).getByRole('listitem').filter({ hasText: 'in use' }).locator('code').textContent();

  it('makes a new instance from a backup, switches the app to it, and deletes the old one', async () => {
    await page.goto(manager.url);
    await page.getByRole('button', { name: 'Create an account' }).click();
    await fillCredentials(page, 'intonew@example.com', 'into new password 1');
    await page.getByRole('button', { name: 'Create account' }).click();
    await waitOnline(page);
    await useOpenAICompatible(page, wire.url, API_KEY, 'openai-compatible:into-1');
    await send(page, 'written before the backup');
    expect(await lastAnswer(page)).toBe('Echo: written before the backup');

    await openView(page, 'Instance');
    await waitInstanceState(page, 'Running');
    // One instance: no switcher yet.
    expect(await switcher().count()).toBe(0);
    await updates().getByRole('button', { name: 'Create backup' }).click();
    const backup = updates().getByRole('list', { name: 'Backups' }).getByRole('listitem').filter({ hasText: 'manual' });
    await backup.waitFor();
    await openView(page, 'Chat');
    await send(page, 'written after the backup');
    await assistantMessages(page).filter({ hasText: 'Echo: written after the backup' }).waitFor();

    await openView(page, 'Instance');
    await backup.getByRole('button', { name: /^Restore into new instance/ }).click();
    await backup.getByRole('button', { name: 'Make it' }).click();
    // Progress while it is made; the switcher appears with the new instance coming up.
    await updates().getByText(/^Restoring into a new instance/).waitFor();
    const made = updates().getByText(/^New instance inst-[0-9a-f]+ is running\./);
    await made.waitFor({ timeout: 90_000 });
    const newId = /inst-[0-9a-f]+/.exec((await made.textContent()) ?? '')?.[0] as string;
    const items = switcher().getByRole('list', { name: 'Instances' }).getByRole('listitem');
    await expect.poll(() => items.count()).toBe(2);
    const oldId = (await shownId()) as string;
    expect(oldId).not.toBe(newId);
    await items.filter({ hasText: newId }).getByText('Running', { exact: true }).waitFor();
    // The old one runs on, in use.
    await waitInstanceState(page, 'Running');

    // Switch: the app talks to the new instance, which has the backup's history and the restored provider key.
    await switcher().getByRole('button', { name: `Use instance ${newId}` }).click();
    await expect.poll(shownId, { timeout: 30_000 }).toBe(newId);
    await openView(page, 'Chat');
    await waitOnline(page);
    // Until the new gateway's first `sync` arrives, the page may still show what it had.
    await expect
      .poll(async () => (await userMessages(page).allTextContents()).join('\n'), { timeout: 30_000 })
      .not.toContain('written after the backup');
    await userMessages(page).filter({ hasText: 'written before the backup' }).first().waitFor();
    await send(page, 'hello from the new instance');
    // The wire server answers only with the key: the new gateway opened the restored vault.
    await assistantMessages(page).filter({ hasText: 'Echo: hello from the new instance' }).waitFor();

    // Delete the old one: only the new instance is left, and the switcher goes away.
    await openView(page, 'Instance');
    const old = items.filter({ hasText: oldId });
    await old.getByRole('button', { name: `Delete instance ${oldId}` }).click();
    await old.getByRole('button', { name: 'Delete for good' }).click();
    await switcher().waitFor({ state: 'detached', timeout: 30_000 });
    await waitInstanceState(page, 'Running');

    // A 390-px-wide window: the backups section wraps, nothing scrolls sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await updates().evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 240_000);
});
