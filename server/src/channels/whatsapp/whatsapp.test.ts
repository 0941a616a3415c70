/**
 * WhatsApp end to end: the gateway's WhatsApp channel (baileys, unchanged)
 * against a local WhatsApp Web server (server/src/testing/whatsapp-server.ts)
 * — real from the WebSocket up: the Noise XX handshake (a test root
 * certificate key pinned through whatsapp.serverKey), the binary nodes, the
 * QR link (ADV device identity), login by stored creds, and Signal-protocol
 * encrypted messages both ways (each contact a libsignal session of its own).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { SettingKey } from '@autoclaw/shared';
import type { WhatsAppContact, WhatsAppServer } from '../../testing/whatsapp-server';
import type { ChannelGateway } from '../test-kit';
import { linkWhatsApp, whatsAppFixture } from './test-link';

let wa: WhatsAppServer;
let h: ChannelGateway;

const ALICE: WhatsAppContact = { number: '15550002222', name: 'Alice' };
const answer = (text: string) => wa.waitForSent((s) => s.text === text);

const link = (extra: ReadonlyArray<readonly [SettingKey, string]> = []) => linkWhatsApp(h, wa, extra);

const fixture = whatsAppFixture();
beforeEach(() => {
  ({ wa, h } = fixture);
});

describe('whatsapp channel', () => {
  it('links by QR code, answers a DM (decrypted by the sender), one turn per message id', async () => {
    await link([['whatsapp.dmPolicy', 'open']]);
    const qr = wa.refs[0]!;
    expect(qr).toBeTruthy();
    const id = await wa.incoming(ALICE, 'hello whatsapp');
    const sent = await answer('Echo: hello whatsapp');
    expect(sent.to).toBe(`${ALICE.number}@s.whatsapp.net`);
    expect(wa.receipts.has(id)).toBe(true);
    wa.redeliver(id);
    await wa.incoming(ALICE, 'second');
    await answer('Echo: second');
    expect(h.gw.wire.requests).toHaveLength(2);
    expect((await h.client.sessions.list.query()).sessions.find((s) => s.channel === 'whatsapp')?.title).toBe('WhatsApp · Alice');
  });
});

describe('whatsapp channel, linked', () => {
  it('logs in by its stored creds after a restart: no new QR code', async () => {
    await link([['whatsapp.dmPolicy', 'open']]);
    await h.client.channels.setEnabled.mutate({ name: 'whatsapp', enabled: false });
    await h.until('the device to go', () => wa.connections() === 0);
    await h.enable('whatsapp');
    await h.waitForState('whatsapp', 'connected');
    await h.until('the second login', () => wa.logins >= 2);
    expect(wa.refs).toHaveLength(1);
    expect((await h.status('whatsapp')).qr).toBeNull();
    await wa.incoming(ALICE, 'after the restart');
    await answer('Echo: after the restart');
    // The link is kept in the store, encrypted: no creds in the clear.
    const dump = JSON.stringify(h.gw.gateway.store.dump());
    expect(dump).not.toContain(wa.deviceJid()!);
    expect(dump).not.toContain('noiseKey');
  });

  it('loses nothing across a cut: what came meanwhile is fetched as the offline backlog, each once', async () => {
    await link([['whatsapp.dmPolicy', 'open']]);
    await wa.incoming(ALICE, 'before the cut');
    await answer('Echo: before the cut');
    wa.cut();
    await h.until('the cut', () => wa.connections() === 0);
    await wa.incoming(ALICE, 'during the cut 1');
    await wa.incoming(ALICE, 'during the cut 2');
    await h.until('the reconnect', () => wa.logins >= 2);
    await answer('Echo: during the cut 1');
    await answer('Echo: during the cut 2');
    expect(h.gw.wire.requests).toHaveLength(3);
    expect(wa.sent.filter((s) => s.text === 'Echo: before the cut')).toHaveLength(1);
  });

  it('pairs strangers, answers groups on mention only, in the group', async () => {
    await link([['whatsapp.allowFrom', ALICE.number]]);
    const stranger = { number: '15550009999', name: 'Stranger' };
    await wa.incoming(stranger, 'hi');
    const pairing = await wa.waitForSent((s) => /pairing code is [A-Z0-9]{8}/.test(s.text));
    expect(pairing.to).toBe(`${stranger.number}@s.whatsapp.net`);
    const group = { id: '120363000000000001@g.us', subject: 'Family' };
    await wa.incoming(ALICE, 'dinner at 8', { group });
    await wa.incoming(ALICE, `@${wa.phone} what is for dinner?`, { group, mentionsMe: true });
    await h.until('the group answer', () => h.gw.wire.requests.length === 1);
    expect(JSON.stringify(h.gw.wire.requests[0]!.body)).toContain('what is for dinner?');
    expect(h.gw.wire.requests).toHaveLength(1);
    // Answered in the group (under the device's sender key, read by a member), not to Alice alone.
    const inGroup = await wa.waitForSent((s) => s.to === group.id && s.text.includes('what is for dinner?'));
    expect(inGroup.text).toMatch(/^Echo: /);
    // The next answer reuses the sender key the members already hold.
    await wa.incoming(ALICE, `@${wa.phone} and dessert?`, { group, mentionsMe: true });
    await wa.waitForSent((s) => s.to === group.id && s.text.includes('and dessert?'));
    expect(wa.sent.filter((s) => s.to === `${ALICE.number}@s.whatsapp.net` && /dinner|dessert/.test(s.text))).toHaveLength(0);
  });

  it('changes nothing for a message nobody encrypted to it', async () => {
    await link([['whatsapp.dmPolicy', 'open']]);
    await wa.incoming(ALICE, 'a real one');
    await answer('Echo: a real one');
    const before = JSON.stringify(h.gw.gateway.store.dump());
    wa.forged(ALICE, '3EB0FORGED0000000001');
    await h.until('the forged message refused', () => wa.nacks.has('3EB0FORGED0000000001'));
    expect(JSON.stringify(h.gw.gateway.store.dump())).toBe(before);
    expect(h.gw.wire.requests).toHaveLength(1);
  });

  it('is down with "re-link needed" when the phone removed the device', async () => {
    await link([['whatsapp.dmPolicy', 'open']]);
    wa.unlink();
    const status = await h.waitForState('whatsapp', 'down');
    expect(status.lastError).toMatch(/re-link needed/);
    // Turned off and on: a new QR code (the old link was forgotten).
    await h.client.channels.setEnabled.mutate({ name: 'whatsapp', enabled: false });
    await h.enable('whatsapp');
    await h.until('a new QR code', async () => (await h.status('whatsapp')).qr);
    expect(wa.refs).toHaveLength(2);
  });
});
