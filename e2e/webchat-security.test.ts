import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './support/harness';
import type { Page } from 'playwright-core';
import { pairingCode } from './support/gateway-process';
import { openAndPair, send, lastAnswer } from './support/webchat';

/** A page on another local port tries to use the gateway (the "ClawJacked" attack). */
const ATTACK_PAGE = (gatewayUrl: string) => `<!doctype html><title>attack</title><script>
const out = { ws: 'pending', challenge: 'pending', pair: 'pending' };
const ws = new WebSocket(${JSON.stringify(gatewayUrl.replace('http', 'ws') + '/trpc?connectionParams=1')});
ws.onopen = () => { out.ws = 'open'; };
ws.onclose = (e) => { if (out.ws === 'pending') out.ws = 'refused:' + e.code; };
fetch(${JSON.stringify(gatewayUrl + '/auth/challenge')}).then((r) => r.text()).then((t) => { out.challenge = 'read:' + t; }, () => { out.challenge = 'blocked'; });
fetch(${JSON.stringify(gatewayUrl + '/auth/pair')}, { method: 'POST', mode: 'no-cors', body: '{}' }).then(() => { out.pair = 'sent'; }, () => { out.pair = 'blocked'; });
window.__result = out;
</script>`;

describe('WebChat pairing, origins and revocation', () => {
  let h: Harness;
  let site: Server;
  let siteUrl = '';

  beforeAll(async () => {
    h = await startHarness();
    site = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(ATTACK_PAGE(h.gateway.url));
    });
    await new Promise<void>((done) => site.listen(0, '127.0.0.1', done));
    const address = site.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    siteUrl = `http://127.0.0.1:${address.port}/`;
  });

  afterAll(async () => {
    if (site) await new Promise<void>((done) => site.close(() => done()));
    await h?.close();
  });

  let page: Page;

  it('explains a wrong pairing code, then pairs with the right one', async () => {
    page = await h.newPage();
    await page.goto(h.baseUrl);
    await page.getByLabel('Pairing code').fill('WRNG-CODE');
    await page.getByRole('button', { name: 'Pair' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.innerText()).toMatch(/code is wrong, expired or already used/);
    await openAndPair(page, h.baseUrl, h.dataDir);
    await send(page, 'paired now');
    expect(await lastAnswer(page)).toBe('Echo: paired now');
  });

  it('a page on another origin cannot open the gateway WebSocket nor read a challenge, though this browser is paired', async () => {
    const attack = await page.context().newPage();
    await attack.goto(siteUrl);
    await expect
      .poll(() => attack.evaluate(() => JSON.stringify((window as unknown as { __result: unknown }).__result)), { timeout: 15_000 })
      .toMatch(/"ws":"refused:\d+".*"challenge":"blocked"/);
    const result = (await attack.evaluate(() => (window as unknown as { __result: Record<string, string> }).__result)) as Record<string, string>;
    expect(result.ws).toBe('refused:1006');
    expect(h.gateway.output()).toContain('foreign origin');
    await attack.close();
  });

  it('sends a revoked browser back to pairing with an explanation, and it can pair again', async () => {
    await page.getByRole('button', { name: 'Settings' }).click();
    const devices = page.getByRole('list', { name: 'Paired devices' });
    const mine = devices.getByRole('listitem').filter({ hasText: 'this browser' });
    await mine.waitFor();
    await mine.getByRole('button', { name: /^Revoke/ }).click();
    await mine.getByRole('group').getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('heading', { name: 'Pair this browser' }).waitFor();
    expect(await page.getByRole('status').innerText()).toMatch(/does not recognise this browser/);

    await page.getByLabel('Pairing code').fill(await pairingCode(h.dataDir));
    await page.getByRole('button', { name: 'Pair' }).click();
    await page.getByRole('status', { name: 'Connection' }).filter({ hasText: 'Online' }).waitFor();
    await page.getByRole('button', { name: 'Settings' }).click();
    await expect.poll(() => devices.getByRole('listitem').filter({ hasText: 'revoked' }).count()).toBe(1);
    expect(await devices.getByRole('listitem').filter({ hasText: 'this browser' }).count()).toBe(1);
  });
});
