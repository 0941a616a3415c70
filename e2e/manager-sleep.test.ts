/**
 * Scale to zero in the manager UI (Chromium, the real manager with a 3 s
 * idle time): once the app is closed the instance sleeps (its gateway
 * process ends); opening the app again wakes it — the history says so ("Running →
 * Asleep", "Asleep → Starting") — and the chat answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { WireServerHandle } from '../server/src/testing/wire-server-base';
import { startManagerInChromium, stopManagerInChromium } from './support/manager-chromium';
import { isAlive, listInstances, type ManagerProcess } from './support/manager-process';
import { fillCredentials, openView, useOpenAICompatible, waitInstanceState } from './support/manager-ui';
import { lastAnswer, send, waitOnline } from './support/webchat';

const API_KEY = 'sk-e2e-sleep-key';

describe('the manager UI with an instance that sleeps when idle', () => {
  let dataDir = '';
  let wire: WireServerHandle;
  let manager: ManagerProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    ({ dataDir, wire, manager, browser, context, page } = await startManagerInChromium({ wire: { apiKey: API_KEY }, manager: { env: { AUTOCLAW_SLEEP_AFTER_MINUTES: '0.05' } } }));
  });
  afterAll(() => stopManagerInChromium({ dataDir, wire, manager, browser, context }));

  it('sleeps when the app is closed (its process ends) and wakes when the app opens again, which then chats', async () => {
    await page.goto(manager.setupLink ?? '');
    await fillCredentials(page, 'sleepy@example.com', 'correct horse battery');
    await page.getByRole('button', { name: 'Create owner account' }).click();
    await waitOnline(page);
    await useOpenAICompatible(page, wire.url, API_KEY, 'openai-compatible:echo-1');
    await send(page, 'before the nap');
    expect(await lastAnswer(page)).toBe('Echo: before the nap');
    await openView(page, 'Instance');
    await waitInstanceState(page, 'Running');

    // The app closed: the instance sleeps and its gateway process ends.
    const [awake] = await listInstances(dataDir);
    await page.goto('about:blank');
    await expect.poll(async () => (await listInstances(dataDir))[0]?.state, { timeout: 30_000 }).toBe('sleeping');
    // 'sleeping' is recorded before the gateway is stopped (a manager killed between the two leaves a stray that recovery stops): the process ends just after.
    await expect.poll(() => isAlive(awake?.pid ?? -1), { timeout: 15_000 }).toBe(false);

    // Opened again: it wakes, the history says so, and the chat goes on.
    await page.goto(manager.url);
    await openView(page, 'Instance');
    await waitInstanceState(page, 'Running', 30_000);
    const events = page.getByRole('list', { name: 'Instance events' });
    await events.getByText('Running → Asleep').first().waitFor();
    await events.getByText('Asleep → Starting').first().waitFor();
    await openView(page, 'Chat');
    await waitOnline(page);
    await send(page, 'after the nap');
    await expect.poll(() => lastAnswer(page), { timeout: 20_000 }).toBe('Echo: after the nap');
  }, 150_000);
});
