/** For the WhatsApp tests. linkWhatsApp sets the channel up against the local server, scans its QR code as the phone, waits for the login. */
import { afterEach, beforeEach } from 'vitest';
import type { SettingKey } from '@autoclaw/shared';
import { startWhatsAppServer, type WhatsAppServer } from '../../testing/whatsapp-server';
import { startChannelGateway, type ChannelGateway } from '../test-kit';

export async function linkWhatsApp(h: ChannelGateway, wa: WhatsAppServer, extra: ReadonlyArray<readonly [SettingKey, string]> = []): Promise<void> {
  await h.set('whatsapp.url', wa.url);
  await h.set('whatsapp.serverKey', wa.rootKey);
  for (const [k, v] of extra) await h.set(k, v);
  await h.enable('whatsapp');
  const qr = await h.until('the QR code', async () => (await h.status('whatsapp')).qr);
  wa.scan(qr);
  await h.until('the login', () => wa.connections() === 1);
  await h.until('the QR code to go', async () => (await h.status('whatsapp')).qr === null);
  await h.waitForState('whatsapp', 'connected');
}

/** A WhatsApp test server and a channel gateway for each test (closed after it). */
export function whatsAppFixture(): { wa: WhatsAppServer; h: ChannelGateway } {
  const f = {} as { wa: WhatsAppServer; h: ChannelGateway };
  beforeEach(async () => {
    f.wa = await startWhatsAppServer();
    f.h = await startChannelGateway({ tuning: { pollTimeoutSec: 1, editIntervalMs: 50, livenessMs: 3_000 } });
  });
  afterEach(async () => {
    await f.h.close();
    await f.wa.close();
  });
  return f;
}
