/**
 * The manager as the one door, in Chromium against the real manager (local
 * driver, 3 s idle time): signed in, the app's chat WebSocket goes to
 * `<manager>/i/<instanceId>/trpc` with a door pass — never to the gateway's
 * own address — and is answered; the app closed, the instance sleeps; the
 * app opened again connects through the door, which wakes it, and the
 * user's message is answered. Another account, signed in in another
 * browser, is refused at the first one's door. A wake that fails is told
 * in the chat with its reason, not left connecting.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { WireServerHandle } from '../server/src/testing/wire-server-base';
import { startManagerInChromium, stopManagerInChromium } from './support/manager-chromium';
import { createUser, listInstances, type ManagerProcess } from './support/manager-process';
import { fillCredentials, openView, useOpenAICompatible, waitInstanceState } from './support/manager-ui';
import { connection, lastAnswer, send, waitOnline } from './support/webchat';

const API_KEY = 'sk-e2e-door-key';

describe('the app talks to its instance through the manager door', () => {
  let dataDir = '';
  let wire: WireServerHandle;
  let manager: ManagerProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const sockets: string[] = [];

  beforeAll(async () => {
    ({ dataDir, wire, manager, browser, context, page } = await startManagerInChromium({ wire: { apiKey: API_KEY }, manager: { env: { AUTOCLAW_SLEEP_AFTER_MINUTES: '0.05' } } }));
    page.on('websocket', (ws) => sockets.push(ws.url()));
  });
  afterAll(() => stopManagerInChromium({ dataDir, wire, manager, browser, context }));

  it('chats through /i/<id>/, sleeps when the app is closed, and wakes through the door when the user comes back', async () => {
    await page.goto(manager.setupLink ?? '');
    await fillCredentials(page, 'door@example.com', 'correct horse battery');
    await page.getByRole('button', { name: 'Create owner account' }).click();
    await waitOnline(page);
    const [instance] = await listInstances(dataDir);
    if (!instance?.url) throw new Error('no running instance');
    const managerWs = manager.url.replace(/^http/, 'ws');
    const gatewayPort = new URL(instance.url).port;

    await useOpenAICompatible(page, wire.url, API_KEY, 'openai-compatible:echo-1');
    await send(page, 'through the door');
    expect(await lastAnswer(page)).toBe('Echo: through the door');
    // The chat's socket is the door's, with a door pass; nothing went to the gateway's own address.
    expect(sockets.some((url) => url.startsWith(`${managerWs}/i/${instance.id}/trpc?`) && new URL(url).searchParams.has('door_pass'))).toBe(true);
    expect(sockets.filter((url) => new URL(url).port === gatewayPort)).toEqual([]);
    expect(sockets.every((url) => url.startsWith(`${managerWs}/`))).toBe(true);

    // The app closed: the instance sleeps.
    await page.goto('about:blank');
    await expect.poll(async () => (await listInstances(dataDir))[0]?.state, { timeout: 30_000 }).toBe('sleeping');

    // Opened again: the chat connects through the door, which wakes it; what the user typed is answered.
    sockets.length = 0;
    await page.goto(manager.url);
    await openView(page, 'Chat');
    await send(page, 'after the nap');
    await expect.poll(() => lastAnswer(page), { timeout: 30_000 }).toBe('Echo: after the nap');
    await waitOnline(page);
    expect(sockets.some((url) => url.startsWith(`${managerWs}/i/${instance.id}/trpc?`))).toBe(true);
    const awake = (await listInstances(dataDir))[0];
    expect(awake?.state).toBe('running');
    expect(sockets.filter((url) => new URL(url).port === new URL(awake?.url ?? 'http://x:1').port)).toEqual([]);
    await openView(page, 'Instance');
    await waitInstanceState(page, 'Running');
    // The door woke it (the app did not ask the manager to start it).
    await page.getByRole('list', { name: 'Instance events' }).getByText('woken: a client came through the door').first().waitFor();
  }, 180_000);

  it("refuses another account's session at the first account's door", async () => {
    const [instance] = await listInstances(dataDir);
    if (!instance) throw new Error('no instance');
    await createUser(dataDir, 'other@example.com', 'another horse battery');
    const other = await browser.newContext();
    try {
      const otherPage = await other.newPage();
      otherPage.setDefaultTimeout(20_000);
      await otherPage.goto(manager.url);
      await fillCredentials(otherPage, 'other@example.com', 'another horse battery');
      await otherPage.getByRole('button', { name: 'Sign in' }).click();
      await otherPage.getByText('other@example.com', { exact: true }).waitFor();
      const refused = await otherPage.evaluate(async (id) => {
        const stored = JSON.parse(localStorage.getItem('autoclaw.manager.session') ?? '{}') as { token?: string };
        const http = await fetch(`/i/${id}/healthz`, { headers: { authorization: `Bearer ${stored.token ?? ''}` } });
        const body = (await http.json()) as { error?: { code?: string } };
        const ws = await new Promise<{ code: number; reason: string }>((resolve) => {
          const socket = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/i/${id}/trpc`);
          socket.onclose = (e) => resolve({ code: e.code, reason: e.reason });
        });
        return { status: http.status, code: body.error?.code, ws };
      }, instance.id);
      expect(refused.status).toBe(403);
      expect(refused.code).toBe('FORBIDDEN');
      expect(refused.ws.code).toBe(4403);
      expect(refused.ws.reason).toMatch(/^UNAUTHORIZED: /);
    } finally {
      await other.close();
    }
  }, 60_000);

  it('a wake that fails says why in the chat instead of connecting for ever', async () => {
    const [instance] = await listInstances(dataDir);
    if (!instance) throw new Error('no instance');
    await page.goto('about:blank');
    await expect.poll(async () => (await listInstances(dataDir))[0]?.state, { timeout: 30_000 }).toBe('sleeping');
    // Its database is unreadable now: the gateway cannot start.
    const db = join(dataDir, 'instances', instance.id, 'gateway.db');
    for (const f of [`${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
    writeFileSync(db, 'this is not a database '.repeat(200));
    await page.goto(manager.url);
    await openView(page, 'Chat');
    await connection(page).filter({ hasText: /^Your assistant could not wake: \S/ }).waitFor({ timeout: 60_000 });
    expect((await listInstances(dataDir))[0]?.state).toBe('failed');
  }, 120_000);
});
