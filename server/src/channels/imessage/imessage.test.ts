/**
 * iMessage end to end: the gateway's BlueBubbles adapter against a local
 * BlueBubbles server (REST API with `?password=`, webhook POSTs to the
 * gateway's /channels/imessage/webhook), configured through the procedures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SettingKey } from '@autoclaw/shared';
import { startBlueBubblesServer, type BlueBubblesServer } from '../../testing/bluebubbles-server';
import { startChannelGateway, type ChannelGateway } from '../test-kit';

const ALICE = '+15550001111';
const DM = `iMessage;-;${ALICE}`;

let bb: BlueBubblesServer;
let h: ChannelGateway;

const connect = (extra: ReadonlyArray<readonly [SettingKey, string]> = [], webhook = true) =>
  h.connect('imessage', [['imessage.url', bb.url], ['imessage.password', bb.password], ...(webhook ? [['imessage.webhookUrl', h.gw.url] as const] : []), ...extra]);
const answer = (chat: string, text: string) => h.until(`"${text}" in ${chat}`, () => bb.sent(chat).find((m) => m.text === text));

beforeEach(async () => {
  bb = await startBlueBubblesServer();
  h = await startChannelGateway({ tuning: { pollTimeoutSec: 1, editIntervalMs: 50, livenessMs: 2_000 } });
});

afterEach(async () => {
  await h.close();
  await bb.close();
});

describe('imessage channel (BlueBubbles)', () => {
  it('registers its webhook, answers a DM, and makes one turn of a redelivered message', async () => {
    await connect([['imessage.allowFrom', ALICE]]);
    expect(bb.webhooks).toHaveLength(1);
    expect(bb.webhooks[0]!.url).toMatch(new RegExp(`^${h.gw.url}/channels/imessage/webhook\\?token=[A-Za-z0-9_-]{20,}$`));
    const { message, statuses } = await bb.userMessage({ address: ALICE, text: 'hello imessage' });
    // Answered after the message was stored.
    expect(statuses).toEqual([200]);
    await answer(DM, 'Echo: hello imessage');
    expect(await bb.redeliver(message)).toEqual([200]);
    await bb.userMessage({ address: ALICE, text: 'again' });
    await answer(DM, 'Echo: again');
    expect(h.gw.wire.requests).toHaveLength(2);
    expect((await h.client.sessions.list.query()).sessions.find((s) => s.channel === 'imessage')?.title).toBe(`iMessage · ${ALICE}`);
  });

  it('refuses a webhook without the right token and stores nothing', async () => {
    await connect([['imessage.dmPolicy', 'open']]);
    const hook = new URL(bb.webhooks[0]!.url);
    const event = JSON.stringify({ type: 'new-message', data: { guid: 'forged-1', text: 'forged', isFromMe: false, dateCreated: Date.now(), handle: { address: ALICE }, chats: [{ guid: DM, style: 45 }] } });
    const before = h.gw.gateway.store.dump();
    for (const token of ['wrong', '']) {
      const res = await fetch(`${hook.origin}${hook.pathname}${token ? `?token=${token}` : ''}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: event });
      expect(res.status).toBe(401);
    }
    expect(h.gw.gateway.store.dump()).toBe(before);
    expect(h.gw.wire.requests).toHaveLength(0);
  });

  it('in a group answers only messages that name it', async () => {
    await connect([['imessage.dmPolicy', 'open'], ['imessage.mentionName', 'Claw']]);
    const group = { guid: 'iMessage;+;chat900001', name: 'Family' };
    await bb.userMessage({ address: ALICE, text: 'dinner at 7?', group });
    await bb.userMessage({ address: ALICE, text: '@Claw what is the weather', group });
    await answer(group.guid, 'Echo: what is the weather');
    expect(h.gw.wire.requests).toHaveLength(1);
    expect((await h.client.sessions.list.query()).sessions.find((s) => s.channel === 'imessage')?.title).toBe('iMessage · Family');
  });

  it('brings a file in, and sends back the file the agent wrote', async () => {
    await connect([['imessage.dmPolicy', 'open']]);
    await bb.userMessage({ address: ALICE, text: 'see attached', file: { name: 'list.txt', mimeType: 'text/plain', bytes: Buffer.from('bread') } });
    await h.until('the answer', () => bb.sent(DM).find((m) => m.text.startsWith('Echo: see attached')));
    const said = JSON.stringify(h.gw.wire.requests.at(-1)!.body);
    const path = /attached file: (channels\/imessage\/[^ ]+list\.txt)/.exec(said)?.[1];
    expect(readFileSync(join(h.gw.dir, 'workspace', path!), 'utf8')).toBe('bread');

    await bb.userMessage({ address: ALICE, text: '/tool workspace_write_file {"path":"shop.txt","content":"milk"}' });
    const prompt = await bb.waitForSent((m) => m.text.startsWith('Allow workspace_write_file?'));
    const code = /approve ([a-z0-9]+)/.exec(prompt.text)![1]!;
    await bb.userMessage({ address: ALICE, text: `approve ${code}` });
    await h.until('the file', () => bb.files.find((f) => f.name === 'shop.txt'));
    expect(bb.files[0]).toMatchObject({ chatGuid: DM, name: 'shop.txt' });
    expect(bb.files[0]!.bytes.toString()).toBe('milk');
  });

  it('loses nothing across a cut: messages sent meanwhile are fetched, a failed reply is retried', async () => {
    await connect([['imessage.dmPolicy', 'open']]);
    await h.client.channels.setEnabled.mutate({ name: 'imessage', enabled: false });
    // The gateway is away: the webhook is refused (503) and BlueBubbles does not post it again.
    const missed = await bb.userMessage({ address: ALICE, text: 'while you were away' });
    expect(missed.statuses).toEqual([503]);
    bb.failSends(1, 500);
    await h.client.channels.setEnabled.mutate({ name: 'imessage', enabled: true });
    await answer(DM, 'Echo: while you were away');
    expect(bb.sent(DM).filter((m) => m.text === 'Echo: while you were away')).toHaveLength(1);
    expect(h.gw.wire.requests).toHaveLength(1);
  });

  it('polls without a webhook URL, and reconnects when the Mac stops answering pings', async () => {
    await connect([['imessage.dmPolicy', 'open']], false);
    expect(bb.webhooks).toHaveLength(0);
    await bb.userMessage({ address: ALICE, text: 'polled' });
    await answer(DM, 'Echo: polled');
    bb.unavailable(true);
    const notice = await h.waitForNotice((n) => n.title === 'iMessage is reconnecting');
    expect(notice.body).toMatch(/no heartbeat from iMessage/);
    bb.unavailable(false);
    await h.waitForNotice((n) => n.title === 'iMessage is connected again');
  });

  it('makes a new webhook token when the webhook URL changes, and unregisters the old hook', async () => {
    await connect([['imessage.dmPolicy', 'open']]);
    const old = new URL(bb.webhooks[0]!.url);
    // The same gateway under another name: the token is sent to whoever serves the new URL.
    const next = h.gw.url.replace('127.0.0.1', 'localhost');
    await h.set('imessage.webhookUrl', next);
    const hook = await h.until('the new registration alone', () => bb.webhooks.length === 1 && bb.webhooks[0]!.url.startsWith(`${next}/`) && new URL(bb.webhooks[0]!.url));
    expect(hook.searchParams.get('token')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(hook.searchParams.get('token')).not.toBe(old.searchParams.get('token'));
    const forged = JSON.stringify({ type: 'new-message', data: { guid: 'old-token-1', text: 'forged', isFromMe: false, dateCreated: Date.now(), handle: { address: ALICE }, chats: [{ guid: DM, style: 45 }] } });
    expect((await fetch(old.href, { method: 'POST', headers: { 'content-type': 'application/json' }, body: forged })).status).toBe(401);
    expect((await bb.userMessage({ address: ALICE, text: 'through the new hook' })).statuses).toEqual([200]);
    await answer(DM, 'Echo: through the new hook');
    expect(h.gw.wire.requests).toHaveLength(1);
    // Without a webhook URL it polls, and no hook of it stays registered.
    await h.set('imessage.webhookUrl', null);
    await h.until('the hook to be removed', () => bb.webhooks.length === 0);
    await bb.userMessage({ address: ALICE, text: 'polled now' });
    await answer(DM, 'Echo: polled now');
  });

  it('is down when the password is refused, and a new URL clears the password', async () => {
    await h.set('imessage.url', bb.url);
    await h.set('imessage.password', 'wrong-password');
    await h.enable('imessage');
    const status = await h.waitForState('imessage', 'down');
    expect(status.lastError).toMatch(/BlueBubbles refused the password/);
    expect(status.lastError).not.toContain('wrong-password');
    await h.set('imessage.url', `${bb.url}/`);
    expect((await h.status('imessage')).configured).toBe(false);
  });
});
