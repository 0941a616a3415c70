/**
 * The Channels page in Chromium: Signal linked as a device by QR code. The
 * page points the gateway at a local signal-cli daemon (JSON-RPC over HTTP)
 * that has no account yet; the gateway starts a link, the page draws the
 * `startLink` URI as a QR code (read back module by module and compared
 * with the code of that URI), the daemon finishes the link as a phone would,
 * and the page shows the linked number and "Connected"; a message then gets
 * its answer.
 */
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startSignalCliServer, type SignalCliServer, type SignalUser } from '../server/src/testing/signal-cli-server';
import { startHarness, type Harness } from './support/harness';
import { openAndPair } from './support/webchat';

const ALICE: SignalUser = { number: '+15550000002', uuid: '0a0a0a0a-0000-4000-8000-000000000002', name: 'Alice' };
const LINKED = '+15550000001';

/** The dark modules of the QR image on the page, row by row ('1' dark, '0' light), for a code `size` modules wide drawn with a 1-module margin. */
async function modulesShown(page: Page, size: number): Promise<string[]> {
  const img = page.getByRole('img', { name: 'Signal pairing QR code' });
  return img.evaluate(async (el: HTMLImageElement, n: number) => {
    await el.decode();
    const canvas = document.createElement('canvas');
    canvas.width = el.naturalWidth;
    canvas.height = el.naturalHeight;
    const g = canvas.getContext('2d')!;
    g.drawImage(el, 0, 0);
    const scale = el.naturalWidth / (n + 2);
    const rows: string[] = [];
    for (let r = 0; r < n; r += 1) {
      let row = '';
      for (let c = 0; c < n; c += 1) {
        const [red] = g.getImageData(Math.floor((1 + c + 0.5) * scale), Math.floor((1 + r + 0.5) * scale), 1, 1).data;
        row += (red ?? 255) < 128 ? '1' : '0';
      }
      rows.push(row);
    }
    return rows;
  }, size);
}

function modulesOf(uri: string): { size: number; rows: string[] } {
  const { modules } = QRCode.create(uri);
  const rows: string[] = [];
  for (let r = 0; r < modules.size; r += 1) {
    let row = '';
    for (let c = 0; c < modules.size; c += 1) row += modules.get(r, c) ? '1' : '0';
    rows.push(row);
  }
  return { size: modules.size, rows };
}

describe('Channels page: Signal', () => {
  let h: Harness;
  let sig: SignalCliServer;
  let page: Page;

  beforeAll(async () => {
    sig = await startSignalCliServer({ linked: false, account: LINKED });
    h = await startHarness();
    page = await h.newPage();
    await openAndPair(page, h.baseUrl, h.dataDir);
  });

  afterAll(async () => {
    await h?.close();
    await sig?.close();
  });

  const state = () => page.getByRole('status', { name: 'Signal state' });

  it('starts a device link and draws its URI as a QR code', async () => {
    await page.getByRole('button', { name: 'Channels' }).click();
    await page.getByRole('tab', { name: /Signal/ }).click();
    await state().filter({ hasText: 'Disabled' }).waitFor();
    await page.getByText('How to connect Signal').click();
    await page.getByText('Linked devices → Link new device').waitFor();
    await page.getByText('Advanced').click();
    const url = 'Remote daemon URL (instead of running signal-cli here)';
    await page.getByRole('textbox', { name: url }).fill(sig.url);
    await page.getByRole('button', { name: `Save ${url}` }).click();
    await page.getByRole('combobox', { name: 'Who may message it' }).selectOption('open');
    await page.getByRole('button', { name: 'Save who may message it' }).click();
    await page.getByText('Open: anyone who finds the bot').first().waitFor();
    await page.getByRole('button', { name: 'Enable Signal' }).click();

    await page.getByRole('img', { name: 'Signal pairing QR code' }).waitFor({ timeout: 20_000 });
    // The URI the gateway got from `startLink` is the one it waits on with `finishLink`.
    const linkUri = () => sig.calls.find((c) => c.method === 'finishLink')?.params['deviceLinkUri'];
    await expect.poll(linkUri).toMatch(/^sgnl:\/\/linkdevice\?uuid=/);
    expect(sig.calls.filter((c) => c.method === 'startLink')).toHaveLength(1);
    const uri = String(linkUri());
    const expected = modulesOf(uri);
    expect(await modulesShown(page, expected.size)).toEqual(expected.rows);
    expect(await page.getByText(/^Linked as/).count()).toBe(0);
  });

  it('shows the linked number and "Connected" once the phone scanned it, and answers a message', async () => {
    sig.scanLink();
    await page.getByText(`Linked as ${LINKED}`).waitFor({ timeout: 20_000 });
    await state().filter({ hasText: 'Connected' }).waitFor({ timeout: 20_000 });
    await page.getByRole('img', { name: 'Signal pairing QR code' }).waitFor({ state: 'detached' });

    await expect.poll(() => sig.streams, { timeout: 15_000 }).toBe(1);
    sig.incoming(ALICE, 'hello from signal');
    await expect.poll(() => sig.sent.find((s) => s.recipient.includes(ALICE.number))?.message, { timeout: 20_000 }).toBe('Echo: hello from signal');
    expect(sig.sent.at(-1)!.account).toBe(LINKED);
    await page.getByText(/^Last message /).waitFor();
    await page.getByRole('navigation', { name: 'Conversations' }).getByText('Signal · Alice').waitFor();
  });
});
