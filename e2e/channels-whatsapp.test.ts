/**
 * The Channels page in Chromium: WhatsApp set up through the page against the
 * local WhatsApp Web server (real Noise handshake, binary nodes, Signal
 * sessions), linked by scanning the QR code the page draws, then a message
 * from a contact answered after the owner approved its pairing code, and a
 * photo from the contact (through the server's HTTPS media host, its CA
 * entered on the page) shown in the conversation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startWhatsAppServer, type WhatsAppServer } from '../server/src/testing/whatsapp-server';
import { startHarness, type Harness } from './support/harness';
import { openAndPair } from './support/webchat';

const ALICE = { number: '15550002222', name: 'Alice' };

describe('Channels page: WhatsApp', () => {
  let h: Harness;
  let wa: WhatsAppServer;
  let page: Page;

  beforeAll(async () => {
    wa = await startWhatsAppServer();
    h = await startHarness();
    page = await h.newPage();
    await openAndPair(page, h.baseUrl, h.dataDir);
  });

  afterAll(async () => {
    await h?.close();
    await wa?.close();
  });

  const state = () => page.getByRole('status', { name: 'WhatsApp state' });
  const save = async (label: string, value: string) => {
    await page.getByRole('textbox', { name: label }).fill(value);
    await page.getByRole('button', { name: `Save ${label}` }).click();
  };

  it('shows the link steps, draws the QR code, and connects once the phone scanned it', async () => {
    await page.getByRole('button', { name: 'Channels' }).click();
    await page.getByRole('tab', { name: /WhatsApp/ }).click();
    await state().filter({ hasText: 'Disabled' }).waitFor();
    await page.getByText('Linked devices → Link a device', { exact: false }).waitFor({ state: 'attached' });
    await page.getByText('Advanced').click();
    await save('WhatsApp Web socket URL', wa.url);
    await save("Server's root certificate key (base64; only for a server other than WhatsApp's)", wa.rootKey);
    await page.getByRole('button', { name: 'Enable WhatsApp' }).click();
    const qr = page.getByRole('img', { name: 'WhatsApp pairing QR code' });
    await qr.waitFor({ timeout: 20_000 });
    const payload = (await qr.getAttribute('data-qr'))!;
    expect(payload).toContain(wa.refs[0]!);
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    wa.scan(payload);
    await qr.waitFor({ state: 'detached', timeout: 20_000 });
    await state().filter({ hasText: 'Connected' }).waitFor({ timeout: 20_000 });
  });

  it('answers a contact after the owner approved its pairing code', async () => {
    await wa.incoming(ALICE, 'hello from whatsapp');
    const prompt = await wa.waitForSent((s) => /pairing code is [A-Z0-9]{8}/.test(s.text));
    const code = /pairing code is ([A-Z0-9]{8})/.exec(prompt.text)![1]!;
    await page.getByRole('list', { name: 'Pending pairings' }).getByText(code).waitFor();
    await page.getByRole('button', { name: 'Approve Alice' }).click();
    await page.getByRole('list', { name: 'Approved senders' }).getByText('Alice', { exact: true }).waitFor();
    await wa.incoming(ALICE, 'and now?');
    const answer = await wa.waitForSent((s) => s.text === 'Echo: and now?');
    expect(answer.to).toBe(`${ALICE.number}@s.whatsapp.net`);
    await page.getByRole('navigation', { name: 'Conversations' }).getByText('WhatsApp · Alice').waitFor();
  });

  it('shows a photo the contact sent in the conversation, once the media hosts are trusted', async () => {
    await page.getByRole('button', { name: 'Channels' }).click();
    await page.getByRole('tab', { name: /WhatsApp/ }).click();
    // Pasted into a one-line field the PEM loses its line breaks: the gateway rewraps it.
    await save("Media hosts' CA certificate (PEM; only for a server other than WhatsApp's)", wa.mediaCa);
    await expect.poll(() => wa.logins, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    await state().filter({ hasText: 'Connected' }).waitFor({ timeout: 20_000 });
    const photo = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('the view from the window')]);
    await wa.incoming(ALICE, 'look at this', { file: { kind: 'image', bytes: photo, mimeType: 'image/jpeg' } });
    await wa.waitForSent((s) => s.text.startsWith('Echo: look at this'));
    await page.getByRole('navigation', { name: 'Conversations' }).getByText('WhatsApp · Alice').click();
    await page.getByText(/attached file: channels\/whatsapp\/[^ ]+image\.jpeg \(image\/jpeg, \d+ B\)/).first().waitFor({ timeout: 20_000 });
  });
});
