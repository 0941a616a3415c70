/**
 * The whole product on one machine, as issue 4 describes it: the real
 * manager (`autoclaw manager`, local driver) prints a one-time setup link;
 * Chromium opens it, creates the owner, watches the instance become
 * running, pairs by itself and chats through the instance's gateway. Then
 * the gateway is killed (-9) and the supervisor brings it back, the instance
 * is stopped and started from the UI, and this device is revoked from the UI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { WireServerHandle } from '../server/src/testing/wire-server-base';
import { startManagerInChromium, stopManagerInChromium } from './support/manager-chromium';
import { isAlive, listInstances, type ManagerProcess } from './support/manager-process';
import { fillCredentials, instanceState, openView, pairingStatus, useOpenAICompatible, waitInstanceState } from './support/manager-ui';
import { handshakeWithStoredKey } from './support/stored-key-handshake';
import { assistantMessages, connection, lastAnswer, recordAnswers, send, userMessages, waitOnline } from './support/webchat';

const OWNER = 'owner@example.com';
const PASSWORD = 'correct horse battery';
const API_KEY = 'sk-e2e-compatible-key';
const MODEL = 'openai-compatible:echo-1';

/** Records every status the connection banner shows from now on. */
async function recordConnection(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { __connection: string[] }).__connection = seen;
    const note = () => {
      const status = document.querySelector('[aria-label="Connection"]')?.getAttribute('data-status') ?? 'none';
      if (seen.at(-1) !== status) seen.push(status);
    };
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
    note();
  });
  return () => page.evaluate(() => (window as unknown as { __connection: string[] }).__connection);
}

describe('the manager UI: setup, a running instance, chat, crash, stop/start, revoke', () => {
  let dataDir = '';
  let wire: WireServerHandle;
  let manager: ManagerProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** The gateway WebSockets this page opened, and whether each is closed. */
  const sockets: Array<{ url: string; closed: boolean }> = [];

  beforeAll(async () => {
    ({ dataDir, wire, manager, browser, context, page } = await startManagerInChromium({ wire: { apiKey: API_KEY, wordDelayMs: 25 } }));
    page.on('websocket', (ws) => {
      const entry = { url: ws.url(), closed: false };
      sockets.push(entry);
      const closed = () => {
        entry.closed = true;
      };
      ws.on('close', closed);
      // A socket that never connected (the gateway was down) ends with an error instead.
      ws.on('socketerror', closed);
    });
    // A reload ends the old document's sockets without a close event.
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) for (const entry of sockets) entry.closed = true;
    });
  });

  afterAll(() => stopManagerInChromium({ dataDir, wire, manager, browser, context }));

  it('opens the setup link, creates the owner, watches the instance become running and pairs by itself', async () => {
    expect(manager.setupLink).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/setup\?token=/);
    await page.goto(manager.setupLink ?? '');
    await page.getByRole('heading', { name: 'Set up AutoClaw' }).waitFor();
    await fillCredentials(page, OWNER, PASSWORD);
    await page.getByRole('button', { name: 'Create owner account' }).click();

    // Provisioning → starting → running, then this browser pairs and the chat opens.
    await waitOnline(page);
    expect(new URL(page.url()).search).toBe('');
    await openView(page, 'Instance');
    await waitInstanceState(page, 'Running');
    await pairingStatus(page).filter({ hasText: 'This device is paired' }).waitFor();
    const events = page.getByRole('list', { name: 'Instance events' });
    await events.getByText('Provisioning → Starting').waitFor();
    await events.getByText('Starting → Running').waitFor();
    const devices = page.getByRole('list', { name: 'Instance devices' });
    await devices.getByRole('listitem').filter({ hasText: 'this device' }).waitFor();

    const [instance] = await listInstances(dataDir);
    expect(instance).toMatchObject({ owner: OWNER, state: 'running' });
    expect(instance?.pid).toBeGreaterThan(0);
  });

  it('chats with the instance: the answer streams in', async () => {
    await useOpenAICompatible(page, wire.url, API_KEY, MODEL);
    const samples = await recordAnswers(page);
    await send(page, 'hello through the manager');
    expect(await lastAnswer(page)).toBe('Echo: hello through the manager');
    const seen = await samples();
    expect(seen.some((s) => s.status === 'streaming' && s.text.length > 0 && s.text.length < 'Echo: hello through the manager'.length)).toBe(true);
    expect(wire.requests.length).toBeGreaterThan(0);
  });

  it('kill -9 of the gateway: the supervisor restarts it, the chat reconnects by itself with its history intact', async () => {
    const [before] = await listInstances(dataDir);
    if (before?.pid === undefined) throw new Error('no gateway pid');
    const statuses = await recordConnection(page);
    process.kill(before.pid, 'SIGKILL');

    await expect.poll(async () => (await statuses()).join(' '), { timeout: 20_000 }).toMatch(/offline.*online/);
    const [after] = await listInstances(dataDir);
    expect(after?.pid).not.toBe(before.pid);
    expect(after?.state).toBe('running');
    expect(after?.restarts).toBeGreaterThanOrEqual(1);

    // History intact, even across a reload; and the chat goes on.
    await page.reload();
    await waitOnline(page);
    await userMessages(page).filter({ hasText: 'hello through the manager' }).waitFor();
    expect(await lastAnswer(page)).toBe('Echo: hello through the manager');
    await send(page, 'after the crash');
    await expect.poll(() => assistantMessages(page).count(), { timeout: 15_000 }).toBe(2);
    expect(await lastAnswer(page)).toBe('Echo: after the crash');

    await openView(page, 'Instance');
    await page.getByRole('list', { name: 'Instance events' }).getByText(/restart/i).first().waitFor();
  });

  it('stops and starts the instance from the UI', async () => {
    const [running] = await listInstances(dataDir);
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await waitInstanceState(page, 'Stopped');
    await connection(page).filter({ hasText: 'Offline' }).waitFor();
    const [stopped] = await listInstances(dataDir);
    expect(stopped?.state).toBe('stopped');
    if (running?.pid !== undefined) expect(isAlive(running.pid)).toBe(false);

    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await waitInstanceState(page, 'Running');
    await openView(page, 'Chat');
    await waitOnline(page);
    await send(page, 'after the restart');
    await expect.poll(() => assistantMessages(page).count(), { timeout: 15_000 }).toBe(3);
    expect(await lastAnswer(page)).toBe('Echo: after the restart');
  });

  it('revokes this device from the UI: its socket closes, the gateway refuses it, and a new key pairs again', async () => {
    const [instance] = await listInstances(dataDir);
    const gatewayUrl = instance?.url;
    if (!gatewayUrl) throw new Error('no gateway url');
    // The chat's socket goes through the manager's door, not to the gateway's own address.
    const doorSocket = `${manager.url.replace(/^http/, 'ws')}/i/${instance.id}/trpc?`;
    const open = sockets.filter((s) => s.url.startsWith(doorSocket) && !s.closed);
    expect(open).toHaveLength(1);

    await openView(page, 'Instance');
    const mine = page.getByRole('list', { name: 'Instance devices' }).getByRole('listitem').filter({ hasText: 'this device' });
    await mine.getByRole('button', { name: /^Revoke/ }).click();
    await mine.getByRole('group').getByRole('button', { name: 'Revoke' }).click();

    await expect.poll(() => open[0]?.closed, { timeout: 10_000 }).toBe(true);
    await pairingStatus(page).filter({ hasText: 'This device was revoked' }).waitFor();
    expect(await connection(page).count()).toBe(0);
    // The key is still here, and the gateway refuses it.
    expect(await handshakeWithStoredKey(page, gatewayUrl)).toBe('closed:4401');

    await page.getByRole('button', { name: 'Pair again with a new key' }).click();
    await waitOnline(page);
    await userMessages(page).filter({ hasText: 'after the restart' }).waitFor();
    expect(await handshakeWithStoredKey(page, gatewayUrl)).toBe('open');
    await openView(page, 'Instance');
    const devices = page.getByRole('list', { name: 'Instance devices' }).getByRole('listitem');
    await devices.filter({ hasText: 'revoked' }).waitFor();
    await devices.filter({ hasText: 'this device' }).filter({ hasNotText: 'revoked' }).waitFor();
    expect(await instanceState(page).innerText()).toBe('Running');
  });

  it('deletes the instance after asking, and makes a new one on request that this device pairs with', async () => {
    const [old] = await listInstances(dataDir);
    await page.getByRole('button', { name: 'Delete instance' }).click();
    await page.getByRole('group').getByRole('button', { name: 'Delete for good' }).click();
    await page.getByText('You have no assistant right now.').waitFor();
    expect(await listInstances(dataDir)).toEqual([]);
    expect(await connection(page).count()).toBe(0);

    await page.getByRole('button', { name: 'Create my assistant' }).click();
    await waitOnline(page);
    const [fresh] = await listInstances(dataDir);
    expect(fresh?.id).not.toBe(old?.id);
    expect(fresh?.state).toBe('running');
    // A new assistant starts with no conversations.
    await page.getByText('No conversations yet', { exact: false }).waitFor();
    expect(await userMessages(page).count()).toBe(0);
  });
});
