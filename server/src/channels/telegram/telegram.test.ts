/**
 * Telegram end to end: the real grammy client in the gateway against a local
 * Bot API server, configured through the gateway's procedures.
 */
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SettingKey } from '@autoclaw/shared';
import { generateDeviceKey } from '../../security';
import { startTelegramBotApiServer, type TelegramBotApiServer, type TgUser } from '../../testing/telegram-bot-api-server';
import { startChannelGateway, type ChannelGateway } from '../test-kit';
import { mediaMethodOf } from './adapter';

const ALICE: TgUser = { id: 4242, first_name: 'Alice' };
const MALLORY: TgUser = { id: 6666, first_name: 'Mallory' };

let tg: TelegramBotApiServer;
let h: ChannelGateway;

const connect = (extra: ReadonlyArray<readonly [SettingKey, string]> = []) => h.connect('telegram', [['telegram.botToken' as const, tg.token], ['telegram.apiRoot' as const, tg.url], ...extra]);

/** The newest text the bot shows in `chatId` whose first version matched. */
const finalText = (chatId: number, startsWith: string) =>
  h.until(`an answer starting "${startsWith}" in ${chatId}`, () => {
    const m = tg.sent.find((s) => s.chatId === chatId && s.text.startsWith(startsWith));
    return m && !m.text.endsWith('…') ? m : undefined;
  });

beforeEach(async () => {
  tg = await startTelegramBotApiServer();
  h = await startChannelGateway();
});

afterEach(async () => {
  await h.close();
  await tg.close();
});

describe('telegram channel', () => {
  it('answers a DM from an allowed sender, streaming by editing the message, in a session of its own', async () => {
    await connect([['telegram.allowFrom', String(ALICE.id)]]);
    tg.userMessage({ from: ALICE, text: 'hello there' });
    const answer = await h.until('the full answer', () => tg.sent.find((m) => m.chatId === ALICE.id && m.text === 'Echo: hello there'));
    expect(answer.replyTo).toBeNull();
    await tg.waitFor('sendChatAction', (c) => c.body['action'] === 'typing');
    const { sessions } = await h.client.sessions.list.query();
    const session = sessions.find((s) => s.channel === 'telegram');
    expect(session?.title).toBe('Telegram · Alice');
    const history = await h.client.chat.history.query({ sessionId: session!.id });
    expect(history.map((m) => [m.role, m.text])).toEqual([
      ['user', 'hello there'],
      ['assistant', 'Echo: hello there'],
    ]);
    const status = await h.status('telegram');
    expect(status.lastInboundAt).not.toBeNull();
  });

  it('a changed API root clears the bot token: the new server never receives it, and the audit log says why', async () => {
    await connect([['telegram.dmPolicy', 'open']]);
    // Another server that would accept the same token if it were sent there.
    const other = await startTelegramBotApiServer({ token: tg.token });
    try {
      await h.set('telegram.apiRoot', other.url);
      const view = await h.client.settings.get.query();
      expect(view.values['telegram.botToken']?.source).toBe('unset');
      expect(view.values['telegram.apiRoot']?.value).toBe(other.url);
      await h.waitForState('telegram', 'down');
      expect(other.calls).toHaveLength(0);
      const { entries } = await h.client.audit.list.query({});
      expect(entries.find((e) => e.target === 'telegram.apiRoot')?.detail).toBe('telegram.botToken cleared (entered for the old endpoint)');
      // A token entered for the new server goes there.
      await h.set('telegram.botToken', other.token);
      await h.waitForState('telegram', 'connected');
      expect(other.calls.length).toBeGreaterThan(0);
    } finally {
      await other.close();
    }
  });

  it('makes one turn of the same platform message delivered twice', async () => {
    await connect([['telegram.dmPolicy', 'open']]);
    const first = tg.userMessage({ from: ALICE, text: 'once please' });
    tg.pushUpdate({ message: first['message'] });
    await finalText(ALICE.id, 'Echo: once please');
    // Another message after both copies: by the time it is answered both copies were handled.
    tg.userMessage({ from: ALICE, text: 'next' });
    await finalText(ALICE.id, 'Echo: next');
    const session = (await h.client.sessions.list.query()).sessions.find((s) => s.channel === 'telegram')!;
    const users = (await h.client.chat.history.query({ sessionId: session.id })).filter((m) => m.role === 'user');
    expect(users.map((m) => m.text)).toEqual(['once please', 'next']);
    expect(h.gw.wire.requests).toHaveLength(2);
  });

  it('gives a stranger a pairing code and no answer until the owner approves it', async () => {
    await connect();
    tg.userMessage({ from: MALLORY, text: 'let me in' });
    const codeMessage = await tg.waitForSent((m) => m.chatId === MALLORY.id && /pairing code is/.test(m.text));
    const code = /pairing code is ([A-Z0-9]{8})/.exec(codeMessage.text)?.[1];
    expect(code).toBeDefined();
    // The same stranger again: no second code, no turn.
    tg.userMessage({ from: MALLORY, text: 'hello?' });
    const detail = await h.client.channels.get.query({ name: 'telegram' });
    expect(detail.pending).toEqual([expect.objectContaining({ code, senderId: String(MALLORY.id), senderName: 'Mallory' })]);
    expect(h.gw.wire.requests).toHaveLength(0);
    expect((await h.client.sessions.list.query()).sessions.filter((s) => s.channel === 'telegram')).toHaveLength(0);

    await h.client.channels.approve.mutate({ channel: 'telegram', code: code!.toLowerCase() });
    await tg.waitForSent((m) => m.chatId === MALLORY.id && m.text.startsWith('You are approved'));
    expect(tg.sent.filter((m) => m.chatId === MALLORY.id)).toHaveLength(2);
    const after = await h.client.channels.get.query({ name: 'telegram' });
    expect(after.pending).toEqual([]);
    expect(after.approved).toEqual([expect.objectContaining({ senderId: String(MALLORY.id) })]);

    tg.userMessage({ from: MALLORY, text: 'now?' });
    await finalText(MALLORY.id, 'Echo: now?');

    await h.client.channels.revoke.mutate({ channel: 'telegram', senderId: String(MALLORY.id) });
    tg.userMessage({ from: MALLORY, text: 'still there?' });
    await tg.waitForSent((m) => m.chatId === MALLORY.id && /pairing code is/.test(m.text) && !m.text.includes(code!));
    expect(h.gw.wire.requests).toHaveLength(1);
  });

  it('in a group answers only when mentioned or replied to, as a reply', async () => {
    await connect([['telegram.dmPolicy', 'open']]);
    const group = { id: -1001234, type: 'supergroup' as const, title: 'Team' };
    tg.userMessage({ from: ALICE, chat: group, text: 'talking among ourselves' });
    const mention = `@${tg.bot.username} what time is it`;
    const update = tg.userMessage({ from: ALICE, chat: group, text: mention, entities: [{ type: 'mention', offset: 0, length: tg.bot.username!.length + 1 }] });
    const answer = await finalText(group.id, 'Echo: what time is it');
    expect(answer.replyTo).toBe((update['message'] as { message_id: number }).message_id);
    tg.userMessage({ from: ALICE, chat: group, text: 'and tomorrow?', replyToBot: answer.messageId });
    await finalText(group.id, 'Echo: and tomorrow?');
    expect(h.gw.wire.requests).toHaveLength(2);
    const session = (await h.client.sessions.list.query()).sessions.find((s) => s.channel === 'telegram');
    expect(session?.title).toBe('Telegram · Team');
  });

  it('reconnects when the server keeps the poll open but stops answering, and tells the user', async () => {
    await h.close();
    h = await startChannelGateway({ tuning: { pollTimeoutSec: 1, livenessMs: 1_500, editIntervalMs: 50 } });
    await connect([['telegram.dmPolicy', 'open']]);
    tg.stall(true);
    const notice = await h.waitForNotice((n) => n.kind === 'channel' && n.title === 'Telegram is reconnecting');
    expect(notice.body).toMatch(/no heartbeat from Telegram/);
    tg.stall(false);
    await h.waitForState('telegram', 'connected');
    await h.waitForNotice((n) => n.kind === 'channel' && n.title === 'Telegram is connected again');
    const { history } = await h.client.channels.get.query({ name: 'telegram' });
    expect(history.map((c) => c.state).slice(0, 3)).toEqual(['connected', 'reconnecting', 'connected']);
    tg.userMessage({ from: ALICE, text: 'still here?' });
    await finalText(ALICE.id, 'Echo: still here?');
  });

  it('waits as long as a 429 says before sending again', async () => {
    await connect([['telegram.dmPolicy', 'open']]);
    // The streaming send and the queued final's first attempt are refused.
    tg.rateLimit('sendMessage', 1, 2);
    tg.userMessage({ from: ALICE, text: 'rate me' });
    await finalText(ALICE.id, 'Echo: rate me');
    const sends = tg.calls.filter((c) => c.method === 'sendMessage');
    expect(sends).toHaveLength(3);
    expect(sends[2]!.at - sends[1]!.at).toBeGreaterThanOrEqual(1_000);
  });

  it('splits a long answer where Telegram demands', async () => {
    await connect([['telegram.dmPolicy', 'open']]);
    const long = Array.from({ length: 900 }, (_, i) => `word${i}`).join(' ');
    h.gw.wire.enqueue({ kind: 'text', text: long });
    tg.userMessage({ from: ALICE, text: 'tell me everything' });
    const parts = await h.until('two parts', () => {
      const mine = tg.sent.filter((m) => m.chatId === ALICE.id);
      return mine.length === 2 && mine.every((m) => m.text.length <= 4096) && mine.map((m) => m.text).join(' ') === long ? mine : undefined;
    });
    expect(parts[0]!.text.length).toBeGreaterThan(3000);
  });

  it('brings files in to the agent and sends the files it writes back, with approval by button', async () => {
    await connect([['telegram.dmPolicy', 'open']]);
    const fileId = tg.addFile(Buffer.from('col1,col2\n1,2\n'), 'documents/file_1.csv');
    tg.userMessage({ from: ALICE, caption: 'what is in it?', document: { fileId, name: 'data.csv', mimeType: 'text/csv' } });
    await finalText(ALICE.id, 'Echo: what is in it?');
    const asked = h.gw.wire.requests.at(-1)!.body as { messages: Array<{ content: unknown }> };
    const said = JSON.stringify(asked.messages.at(-1)?.content);
    const path = /attached file: (channels\/telegram\/4242\/[^ ]+data\.csv)/.exec(said)?.[1];
    expect(path).toBeDefined();
    expect(readFileSync(join(h.gw.dir, 'workspace', path!), 'utf8')).toBe('col1,col2\n1,2\n');

    tg.userMessage({ from: ALICE, text: '/tool workspace_write_file {"path":"out/report.txt","content":"all good"}' });
    const prompt = await tg.waitForSent((m) => m.chatId === ALICE.id && m.text.startsWith('Allow workspace_write_file?'));
    const buttons = (prompt.replyMarkup as { inline_keyboard: Array<Array<{ text: string; callback_data: string }>> }).inline_keyboard[0]!;
    expect(buttons.map((b) => b.text)).toEqual(['Approve', 'Deny']);
    tg.pressButton({ from: ALICE, chat: { id: ALICE.id, type: 'private' }, messageId: prompt.messageId, data: buttons[0]!.callback_data });
    const doc = await tg.waitForSent((m) => m.document !== null);
    expect(doc.document?.name).toBe('report.txt');
    expect(doc.document?.bytes.toString('utf8')).toBe('all good');
    expect(existsSync(join(h.gw.dir, 'workspace', 'out/report.txt'))).toBe(true);
    await finalText(ALICE.id, 'Tool workspace_write_file returned');
    await h.until('the prompt to show the answer', () => prompt.text.endsWith('✅ Approved'));
  });

  it('sends a video as a video, an Ogg as a voice note, and a picture Telegram refuses as a document', async () => {
    await connect([['telegram.dmPolicy', 'open']]);
    const agentWrites = async (path: string, content: string) => {
      tg.userMessage({ from: ALICE, text: `/tool workspace_write_file ${JSON.stringify({ path, content })}` });
      const prompt = await tg.waitForSent((m) => m.chatId === ALICE.id && m.text.startsWith('Allow workspace_write_file?') && m.text.includes(path));
      const approve = (prompt.replyMarkup as { inline_keyboard: Array<Array<{ callback_data: string }>> }).inline_keyboard[0]![0]!;
      tg.pressButton({ from: ALICE, chat: { id: ALICE.id, type: 'private' }, messageId: prompt.messageId, data: approve.callback_data });
      return tg.waitForSent((m) => m.document?.name === path);
    };
    const video = await agentWrites('clip.mp4', 'not really a video');
    expect(video.method).toBe('sendVideo');
    expect(video.document?.bytes.toString()).toBe('not really a video');
    const voice = await agentWrites('reply.ogg', 'not really opus');
    expect(voice.method).toBe('sendVoice');
    // Not a picture: sendPhoto answers 400 IMAGE_PROCESS_FAILED, and the same bytes go as a document.
    const chart = await agentWrites('chart.png', 'not really a png');
    expect(chart.method).toBe('sendDocument');
    expect(chart.document?.bytes.toString()).toBe('not really a png');
    expect(tg.calls.filter((c) => c.method === 'sendPhoto')).toHaveLength(1);
  });

  it('serves a webhook that checks the secret token and answers after storing', async () => {
    // Reached through a tunnel by its public name, which the Host check does not know.
    const PUBLIC = 'https://assistant.example.net';
    await connect([['telegram.dmPolicy', 'open'], ['telegram.webhookUrl', PUBLIC]]);
    const hook = await h.until('the webhook', () => tg.webhook());
    expect(hook.url).toBe(`${PUBLIC}/channels/telegram/webhook`);
    const deliverWebhook = (update: Record<string, unknown>, secret?: string | null) => tg.deliverWebhook(update, secret, h.gw.url);
    expect(hook.secret).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const message = { message_id: 77, date: 1, chat: { id: ALICE.id, type: 'private' }, from: ALICE, text: 'via webhook' };

    const before = h.gw.gateway.store.dump();
    expect(await deliverWebhook({ message }, 'wrong-secret')).toBe(401);
    expect(await deliverWebhook({ message }, null)).toBe(401);
    expect(h.gw.gateway.store.dump()).toBe(before);

    expect(await deliverWebhook({ message })).toBe(200);
    // Stored before the 200: the message is there now.
    const session = (await h.client.sessions.list.query()).sessions.find((s) => s.channel === 'telegram')!;
    expect((await h.client.chat.history.query({ sessionId: session.id }))[0]?.text).toBe('via webhook');
    await finalText(ALICE.id, 'Echo: via webhook');
    expect(await deliverWebhook({ message })).toBe(200);
    expect(h.gw.wire.requests).toHaveLength(1);
    // The exemption is the channels' endpoints alone: any other route by that name is refused.
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(h.gw.url);
      request({ host: url.hostname, port: url.port, path: '/healthz', headers: { host: 'assistant.example.net' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .once('error', reject)
        .end();
    });
    expect(status).toBe(403);
  });

  it('is down with a reason when the token is refused, and never says connected', async () => {
    await h.set('telegram.apiRoot', tg.url);
    await h.set('telegram.botToken', '999:wrong-token');
    await h.enable('telegram');
    const status = await h.waitForState('telegram', 'down');
    expect(status.lastError).toMatch(/Telegram: Unauthorized/);
    expect(status.lastError).not.toContain('wrong-token');
    await h.waitForNotice((n) => n.title === 'Telegram is down');
    // The right token brings it up at once.
    await h.set('telegram.botToken', tg.token);
    await h.waitForState('telegram', 'connected');
  });
  it('tells the manager (admin.activity) that its long poll keeps the instance awake, and that with a webhook it may sleep', async () => {
    const key = generateDeviceKey();
    h.gw.gateway.store.insertDevice({ id: key.deviceId, name: 'AutoClaw manager', kind: 'manager', role: 'owner', publicKey: key.publicKey });
    const manager = h.gw.connect(key);
    expect((await manager.client.admin.activity.query()).keepAwake).toEqual([]);
    await connect([['telegram.dmPolicy', 'open']]);
    expect(await manager.client.admin.activity.query()).toMatchObject({ busySessions: 0, keepAwake: ['telegram'] });
    await h.set('telegram.webhookUrl', 'https://manager.example.net/i/inst-sleepy');
    await h.until('the webhook', () => tg.webhook());
    expect((await manager.client.admin.activity.query()).keepAwake).toEqual([]);
    // Only the manager may ask.
    await expect(h.client.admin.activity.query()).rejects.toThrow(/only the manager/);
  });
});

describe('mediaMethodOf', () => {
  it('shows pictures up to 10 MB as photos, videos, voice notes and tracks as such, anything else as a document', () => {
    expect(mediaMethodOf('image/png', 10 * 1024 * 1024)).toBe('sendPhoto');
    expect(mediaMethodOf('image/jpeg', 10 * 1024 * 1024 + 1)).toBeNull();
    expect(mediaMethodOf('video/mp4', 1)).toBe('sendVideo');
    expect(mediaMethodOf('audio/ogg', 1)).toBe('sendVoice');
    expect(mediaMethodOf('audio/mpeg', 1)).toBe('sendAudio');
    expect(mediaMethodOf('text/plain', 1)).toBeNull();
    expect(mediaMethodOf('video/webm', 1)).toBeNull();
  });
});
