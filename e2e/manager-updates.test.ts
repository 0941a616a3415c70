/**
 * The Instance page's updates and backups in Chromium against a real
 * manager (trusting a test release key) and real gateways: "Update now" to
 * a good release shows each step and ends done on the new version; a
 * release that never becomes ready is rolled back on its own and the reason
 * shows; restoring a backup brings back the older chat history.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { buildTestRelease, testReleaseKey } from '../server/src/manager/updates/test-releases';
import type { BuiltRelease } from '../server/src/manager/updates/test-releases';
import { startOpenAIWireServer } from '../server/src/testing/openai-wire-server';
import type { WireServerHandle } from '../server/src/testing/wire-server-base';
import { launchChromium } from './support/browser';
import { makeDataDir, REPO_ROOT, removeDataDir } from './support/gateway-process';
import { startManager, type ManagerProcess } from './support/manager-process';
import { fillCredentials, openView, useOpenAICompatible, waitInstanceState } from './support/manager-ui';
import { assistantMessages, lastAnswer, send, userMessages, waitOnline } from './support/webchat';

const API_KEY = 'sk-e2e-updates-key';
const key = testReleaseKey();

describe('the Instance page: updates, rollbacks and restores', () => {
  let dataDir = '';
  let out = '';
  let wire: WireServerHandle;
  let manager: ManagerProcess;
  let browser: Browser;
  let page: Page;
  const releases: Record<string, BuiltRelease> = {};

  const addRelease = async (version: string) => {
    const res = await promisify(execFile)(process.execPath, [join(REPO_ROOT, 'server/bin/autoclaw.mjs'), 'releases', 'add', '--data', dataDir, (releases[version] as BuiltRelease).manifestPath], {
      cwd: REPO_ROOT,
      env: { ...process.env, AUTOCLAW_MASTER_KEY_STORE: 'file' },
      timeout: 60_000,
    });
    expect(res.stdout).toContain(`added ${version}`);
  };

  beforeAll(async () => {
    dataDir = makeDataDir();
    const cache = join(REPO_ROOT, 'node_modules/.cache/autoclaw-tests');
    mkdirSync(cache, { recursive: true });
    out = mkdtempSync(join(cache, 'e2e-releases-'));
    const built = await Promise.all([buildTestRelease(out, { version: '7.0.0', kind: 'good', key: key.privateKey }), buildTestRelease(out, { version: '7.1.0', kind: 'not-ready', key: key.privateKey })]);
    for (const r of built) releases[r.version] = r;
    wire = await startOpenAIWireServer({ apiKey: API_KEY });
    manager = await startManager({ dataDir, signup: 'open', args: ['--release-pubkey', key.publicKey], env: { AUTOCLAW_UPDATE_HEALTH_WINDOW_MS: '1000' } });
    browser = await launchChromium();
    page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(30_000);
  }, 180_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await manager?.stop();
    await wire?.close();
    if (dataDir) removeDataDir(dataDir);
    if (out) rmSync(out, { recursive: true, force: true });
  });

  const section = () => page.getByRole('region', { name: 'Updates and backups' });
  const history = () => section().getByRole('list', { name: 'Update history' });

  it('Update now: each step shows, then done on the new version', async () => {
    await page.goto(manager.url);
    await page.getByRole('button', { name: 'Create an account' }).click();
    await fillCredentials(page, 'updates@example.com', 'updates password 1');
    await page.getByRole('button', { name: 'Create account' }).click();
    await waitOnline(page);
    await useOpenAICompatible(page, wire.url, API_KEY, 'openai-compatible:upd-1');
    await send(page, 'written before the backup');
    expect(await lastAnswer(page)).toBe('Echo: written before the backup');

    await addRelease('7.0.0');
    await openView(page, 'Instance');
    await waitInstanceState(page, 'Running');
    await section().getByText('No updates yet.').waitFor();
    await section().getByText('7.0.0', { exact: true }).waitFor();
    await section().getByRole('button', { name: 'Update now' }).click();
    const progress = section().getByRole('list', { name: 'Update progress' });
    await progress.getByText(/^backup: taking a pre-update backup/).waitFor();
    await progress.getByText(/^trial start: 7\.0\.0 on a copy of the data/).waitFor();
    await progress.getByText('Done', { exact: true }).waitFor({ timeout: 90_000 });
    await history().getByText(/Update .* → 7\.0\.0: done/).waitFor();
    await page.getByTestId('instance-version').filter({ hasText: /^7\.0\.0$/ }).waitFor();
    await waitInstanceState(page, 'Running');
  }, 180_000);

  it('a release that never becomes ready is rolled back, with the reason shown', async () => {
    await addRelease('7.1.0');
    // Back and forth: the page asks for the version again.
    await openView(page, 'Settings');
    await openView(page, 'Instance');
    await section().getByText('7.1.0', { exact: true }).waitFor();
    await section().getByRole('button', { name: 'Update now' }).click();
    const rolledBack = history().getByText(/Update 7\.0\.0 → 7\.1\.0: rolled back — trial failed: .*ready/);
    await rolledBack.waitFor({ timeout: 90_000 });
    await section().getByRole('list', { name: 'Update progress' }).getByText('Rolled back', { exact: true }).waitFor();
    expect(await page.getByTestId('instance-version').textContent()).toBe('7.0.0');
    await waitInstanceState(page, 'Running');

    // A 390-px-wide window: the section wraps, nothing scrolls sideways; the buttons are reachable by keyboard.
    await page.setViewportSize({ width: 390, height: 844 });
    const box = await section().boundingBox();
    expect(box && box.x + box.width).toBeLessThanOrEqual(390);
    expect(await section().evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
    await section().getByRole('button', { name: 'Create backup' }).focus();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Create backup');
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 180_000);

  it('restores a backup: the chat has the older history again', async () => {
    await section().getByRole('button', { name: 'Create backup' }).click();
    const backups = section().getByRole('list', { name: 'Backups' });
    await backups.getByRole('listitem').filter({ hasText: 'manual' }).waitFor();
    await openView(page, 'Chat');
    // The gateway was restarted by the updates: the chat reconnects first.
    await waitOnline(page);
    await send(page, 'written after the backup');
    await assistantMessages(page).filter({ hasText: 'Echo: written after the backup' }).waitFor();

    await openView(page, 'Instance');
    const manual = backups.getByRole('listitem').filter({ hasText: 'manual' });
    await manual.getByRole('button', { name: /^Restore backup/ }).click();
    await manual.getByRole('button', { name: 'Restore now' }).click();
    await page.getByRole('list', { name: 'Instance events' }).getByText(/Restoring → Stopped|restored backup/).first().waitFor({ timeout: 60_000 });
    await waitInstanceState(page, 'Running', 60_000);
    await openView(page, 'Chat');
    await waitOnline(page);
    // Until the restored gateway's first `sync` arrives, the page still shows
    // what it had: wait for the list to become the restored one.
    await expect
      .poll(async () => (await userMessages(page).allTextContents()).join('\n'), { timeout: 30_000 })
      .not.toContain('written after the backup');
    await userMessages(page).filter({ hasText: 'written before the backup' }).first().waitFor();
  }, 180_000);
});
