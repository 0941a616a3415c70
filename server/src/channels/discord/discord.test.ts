/**
 * Discord end to end: the real discord.js client in the gateway against a
 * local Discord (gateway WebSocket + REST), configured through the gateway's
 * procedures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SettingKey } from '@autoclaw/shared';
import { startDiscordServer, type DiscordServer, type DiscordUser } from '../../testing/discord-server';
import { startChannelGateway, type ChannelGateway } from '../test-kit';

const ALICE: DiscordUser = { id: '310000000000000001', username: 'alice', global_name: 'Alice' };
const MALLORY: DiscordUser = { id: '310000000000000666', username: 'mallory', global_name: 'Mallory' };
const GUILD = { id: '500000000000000001', name: 'Home', channelId: '600000000000000001' };

let dc: DiscordServer;
let h: ChannelGateway;

const connect = (extra: ReadonlyArray<readonly [SettingKey, string]> = []) => h.connect('discord', [['discord.token' as const, dc.token], ['discord.apiRoot' as const, dc.apiRoot], ...extra]);

const answer = (channelId: string, content: string) => h.until(`"${content}" in ${channelId}`, () => dc.sent.find((m) => m.channelId === channelId && m.content === content));

beforeEach(async () => {
  dc = await startDiscordServer({ heartbeatIntervalMs: 300, guild: GUILD });
  h = await startChannelGateway();
});

afterEach(async () => {
  await h.close();
  await dc.close();
});

describe('discord channel', () => {
  it('answers a DM, streaming by editing, with a typing indicator, in a session of its own', async () => {
    await connect([['discord.allowFrom', ALICE.id]]);
    dc.userMessage({ author: ALICE, content: 'hello discord' });
    const sent = await answer(`dm-${ALICE.id}`, 'Echo: hello discord');
    expect(sent.replyTo).toBeNull();
    await dc.waitForCall((c) => c.method === 'POST' && c.path === `/channels/dm-${ALICE.id}/typing`);
    const session = (await h.client.sessions.list.query()).sessions.find((s) => s.channel === 'discord');
    expect(session?.title).toBe('Discord · Alice');
    expect(dc.received.filter((r) => r.op === 2)).toHaveLength(1);
  });

  it('makes one turn of the same message dispatched twice, and gives strangers a pairing code', async () => {
    await connect([['discord.allowFrom', ALICE.id]]);
    const message = dc.userMessage({ author: ALICE, content: 'only once' });
    dc.dispatch('MESSAGE_CREATE', message);
    await answer(`dm-${ALICE.id}`, 'Echo: only once');
    dc.userMessage({ author: ALICE, content: 'then this' });
    await answer(`dm-${ALICE.id}`, 'Echo: then this');
    expect(h.gw.wire.requests).toHaveLength(2);

    dc.userMessage({ author: MALLORY, content: 'hi bot' });
    const code = await dc.waitForSent((m) => m.channelId === `dm-${MALLORY.id}` && /pairing code is/.test(m.content));
    expect(code.content).toMatch(/[A-Z0-9]{8}/);
    expect(h.gw.wire.requests).toHaveLength(2);
  });

  it('in a server answers only when mentioned, as a reply', async () => {
    await connect([['discord.dmPolicy', 'open']]);
    dc.userMessage({ author: ALICE, content: 'chatting with friends', guild: true });
    const asked = dc.userMessage({ author: ALICE, content: 'what do you think?', guild: true, mentionBot: true });
    const sent = await answer(GUILD.channelId, 'Echo: what do you think?');
    expect(sent.replyTo).toBe(asked['id']);
    dc.userMessage({ author: ALICE, content: 'and you?', guild: true, replyTo: sent.id });
    await answer(GUILD.channelId, 'Echo: and you?');
    expect(h.gw.wire.requests).toHaveLength(2);
    expect((await h.client.sessions.list.query()).sessions.find((s) => s.channel === 'discord')?.title).toBe('Discord · #general');
  });

  it('resumes after a cut and gets what was sent meanwhile', async () => {
    await connect([['discord.dmPolicy', 'open']]);
    dc.cut();
    // Sent while the socket is down: only a RESUME replays it.
    dc.userMessage({ author: ALICE, content: 'while you were away' });
    await answer(`dm-${ALICE.id}`, 'Echo: while you were away');
    expect(dc.received.filter((r) => r.op === 6)).toHaveLength(1);
    expect(dc.received.filter((r) => r.op === 2)).toHaveLength(1);
    expect((await h.status('discord')).state).toBe('connected');
  });

  it('reconnects when heartbeats stop being acknowledged, and tells the user', async () => {
    await connect([['discord.dmPolicy', 'open']]);
    dc.stopAcks(true);
    const notice = await h.waitForNotice((n) => n.title === 'Discord is reconnecting');
    expect(notice.body).toMatch(/no heartbeat from Discord/);
    const { history } = await h.client.channels.get.query({ name: 'discord' });
    expect(history).toContainEqual(expect.objectContaining({ state: 'reconnecting', error: expect.stringMatching(/no heartbeat from Discord for \d+ s \(limit 3 s\)/) }));
    dc.stopAcks(false);
    await h.waitForState('discord', 'connected');
    await h.waitForNotice((n) => n.title === 'Discord is connected again');
    dc.userMessage({ author: ALICE, content: 'back?' });
    await answer(`dm-${ALICE.id}`, 'Echo: back?');
  });

  it('waits out a REST 429 as long as retry-after says', async () => {
    await connect([['discord.dmPolicy', 'open']]);
    dc.rateLimit('POST', `/channels/dm-${ALICE.id}/messages`, 1);
    dc.userMessage({ author: ALICE, content: 'slowly' });
    await answer(`dm-${ALICE.id}`, 'Echo: slowly');
    const posts = dc.calls.filter((c) => c.method === 'POST' && c.path === `/channels/dm-${ALICE.id}/messages`);
    expect(posts.length).toBeGreaterThanOrEqual(2);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(1_000);
  });

  it('brings attachments in, asks for approval with buttons, and sends the written file back', async () => {
    await connect([['discord.dmPolicy', 'open']]);
    dc.userMessage({ author: ALICE, content: 'look', attachment: { name: 'notes.txt', bytes: Buffer.from('remember the milk'), contentType: 'text/plain' } });
    await h.until('the answer', () => dc.sent.find((m) => m.content.startsWith('Echo: look')));
    const said = JSON.stringify(h.gw.wire.requests.at(-1)!.body);
    const path = /attached file: (channels\/discord\/dm-[0-9]+\/[^ ]+notes\.txt)/.exec(said)?.[1];
    expect(readFileSync(join(h.gw.dir, 'workspace', path!), 'utf8')).toBe('remember the milk');

    dc.userMessage({ author: ALICE, content: '/tool workspace_write_file {"path":"list.md","content":"- milk"}' });
    const prompt = await dc.waitForSent((m) => m.content.startsWith('Allow workspace_write_file?'));
    const row = prompt.components[0] as { components: Array<{ label: string; custom_id: string }> };
    expect(row.components.map((c) => c.label)).toEqual(['Approve', 'Deny']);
    dc.pressButton({ user: ALICE, channelId: prompt.channelId, messageId: prompt.id, customId: row.components[0]!.custom_id });
    const file = await dc.waitForSent((m) => m.files.length > 0);
    expect(file.files[0]).toMatchObject({ name: 'list.md' });
    expect(file.files[0]!.bytes.toString('utf8')).toBe('- milk');
    await dc.waitForCall((c) => c.path.startsWith('/interactions/') && (c.body as { type?: number }).type === 7);
  });

  it('is down when the token is refused', async () => {
    await h.set('discord.apiRoot', dc.apiRoot);
    await h.set('discord.token', 'not-the-token');
    await h.enable('discord');
    const status = await h.waitForState('discord', 'down');
    expect(status.lastError).toMatch(/token/i);
    expect(status.lastError).not.toContain('not-the-token');
  });
});
