/**
 * The manager UI inside the desktop app's shell: the renderer served by the
 * app's protocol handler with its CSP, on an origin other than the manager's
 * and the gateway's; the device key made and kept by main (the page only
 * asks it to sign); native notifications for answers that finish while the
 * window is away; deep links; the tray's "Sign out"; this machine's
 * Tailscale status; and the app updating itself from a local feed (the real
 * electron-updater behind the bridge).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startOpenAIWireServer } from '../server/src/testing/openai-wire-server';
import type { WireServerHandle } from '../server/src/testing/wire-server-base';
import { FakeApp, installedApp, NEW_BUILD, sha512, startFeed, type Feed } from '../desktop/src/main/testing/update-feed';
import { launchChromium } from './support/browser';
import { startDesktopShell, type DesktopShell } from './support/desktop-shell';
import { makeDataDir, removeDataDir } from './support/gateway-process';
import { startManager, type ManagerProcess } from './support/manager-process';
import { fillCredentials, openView, useOpenAICompatible, waitInstanceState } from './support/manager-ui';
import { assistantMessages, lastAnswer, send, waitOnline } from './support/webchat';

const API_KEY = 'sk-e2e-desktop-key';

describe('the manager UI in the desktop shell (real preload bridge and main IPC handlers)', () => {
  let dataDir = '';
  let wire: WireServerHandle;
  let shell: DesktopShell;
  let manager: ManagerProcess;
  let browser: Browser;
  let page: Page;
  let appDir = '';
  let feed: Feed;
  let restoreEnv: () => void = () => undefined;
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let app: FakeApp;

  beforeAll(async () => {
    dataDir = makeDataDir();
    appDir = mkdtempSync(join(tmpdir(), 'autoclaw-e2e-app-'));
    restoreEnv = installedApp(appDir);
    app = new FakeApp('0.1.0', appDir);
    feed = await startFeed({ version: '0.2.0', artifact: NEW_BUILD, hold: held });
    wire = await startOpenAIWireServer({ apiKey: API_KEY });
    shell = await startDesktopShell({
      tailscale: { state: 'needs-login', guidance: 'Sign in to Tailscale to join your tailnet.', authUrl: 'https://login.tailscale.com/a/e2e' },
      selfUpdate: { feedUrl: feed.url, app },
    });
    manager = await startManager({ dataDir, signup: 'open', allowOrigins: [shell.origin] });
    shell.useManager(manager.url);
    browser = await launchChromium();
    page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(20_000);
    await shell.attach(page);
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await manager?.stop();
    await shell?.close();
    await wire?.close();
    release();
    await feed?.close();
    restoreEnv();
    if (appDir) rmSync(appDir, { recursive: true, force: true });
    if (dataDir) removeDataDir(dataDir);
  });

  it('signs up with the manager main was configured with, and pairs the key main keeps', async () => {
    await page.goto(`${shell.origin}/`);
    await page.getByRole('button', { name: 'Create an account' }).click();
    await fillCredentials(page, 'desk@example.com', 'desktop password 1');
    await page.getByRole('button', { name: 'Create account' }).click();
    await waitOnline(page);

    await openView(page, 'Instance');
    await waitInstanceState(page, 'Running');
    const { deviceId, storage } = await shell.deviceKeys.identity();
    expect(storage).toBe('memory');
    const mine = page.getByRole('list', { name: 'Instance devices' }).getByRole('listitem').filter({ hasText: 'this device' });
    await mine.filter({ hasText: 'AutoClaw app (Linux)' }).filter({ hasText: deviceId }).waitFor();
    await page.getByText('could not keep its device key in the system keychain').waitFor();
    // The private key never reached the page: IndexedDB holds no key of ours.
    expect(await page.evaluate(() => indexedDB.databases().then((dbs) => dbs.map((d) => d.name)))).not.toContain('autoclaw');

    const tailscale = page.getByRole('status', { name: 'Tailscale' });
    await tailscale.getByText('Needs sign-in').waitFor();
    expect(await tailscale.getByRole('link', { name: 'Sign this device in to Tailscale' }).getAttribute('href')).toBe('https://login.tailscale.com/a/e2e');
  });

  it('updates the app itself: check, download with a progress bar, "Restart to update"; a feed that is down is an error', async () => {
    const section = page.getByRole('region', { name: 'App updates' });
    await section.getByText('This app: version 0.1.0.').waitFor();
    feed.down = true;
    await section.getByRole('button', { name: 'Check for updates' }).click();
    await section.getByRole('alert').filter({ hasText: 'The update failed' }).waitFor();
    feed.down = false;
    await section.getByRole('button', { name: 'Check for updates' }).click();
    await section.getByRole('status', { name: 'App update' }).getByText('Version 0.2.0 is available.').waitFor();
    expect(await section.getByRole('alert').count()).toBe(0);

    await section.getByRole('button', { name: 'Download 0.2.0' }).click();
    const bar = section.getByRole('progressbar', { name: 'Download progress' });
    await expect.poll(async () => Number((await bar.getAttribute('value')) ?? 0), { timeout: 15_000 }).toBeGreaterThanOrEqual(50);
    await section.getByText(/Downloading 0\.2\.0… \d+ %/).waitFor();
    expect(await section.getByRole('button', { name: 'Restart to update' }).count()).toBe(0);
    release();
    await section.getByText('Version 0.2.0 is downloaded.', { exact: false }).waitFor();
    expect(readFileSync(join(appDir, 'AutoClaw.AppImage'), 'utf8')).toContain('old build');

    await section.getByRole('button', { name: 'Restart to update' }).click();
    await expect.poll(() => [app.relaunched, app.quitted]).toEqual([1, 1]);
    // Installed on quit: the AppImage is the downloaded build.
    expect(sha512(readFileSync(join(appDir, 'AutoClaw.AppImage')))).toBe(sha512(NEW_BUILD));
  });

  it('notifies through main only for answers that finish while the window is away', async () => {
    await useOpenAICompatible(page, wire.url, API_KEY, 'openai-compatible:desk-1');
    await send(page, 'seen in the window');
    expect(await lastAnswer(page)).toBe('Echo: seen in the window');
    expect(shell.notices).toEqual([]);

    await page.evaluate(() => {
      (window as unknown as { __away: boolean }).__away = true;
    });
    await send(page, 'answered while away');
    await expect.poll(() => assistantMessages(page).count(), { timeout: 15_000 }).toBe(2);
    expect(await lastAnswer(page)).toBe('Echo: answered while away');
    await expect.poll(() => shell.notices.length).toBe(1);
    expect(shell.notices[0]).toMatchObject({ title: 'main', preview: 'Echo: answered while away' });
    await page.evaluate(() => {
      (window as unknown as { __away: boolean }).__away = false;
    });
  });

  it('opens the conversation a deep link names', async () => {
    const sessionId = shell.notices[0]?.sessionId ?? '';
    await page.getByRole('button', { name: '+ New chat' }).click();
    await page.getByText('No messages yet. Say hello!').waitFor();
    await shell.push(page, { type: 'deep-link', link: { kind: 'open', sessionId } });
    await page.getByRole('article', { name: 'You message' }).filter({ hasText: 'answered while away' }).waitFor();
    expect(await page.getByText('No messages yet. Say hello!').count()).toBe(0);
  });

  it("signs out from the tray's Sign out", async () => {
    await shell.push(page, { type: 'sign-out' });
    await page.getByRole('heading', { name: 'Sign in to AutoClaw' }).waitFor();
    expect(shell.unreadCounts.at(-1)).toBe(0);
  });
});
