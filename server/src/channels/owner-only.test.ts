/**
 * Channel configuration and the approval of senders are an owner's: a chat
 * device is refused (FORBIDDEN, nothing changed); what an owner does lands
 * in the gateway's audit log with its device, from the app and from the CLI
 * on the data directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRPCClientError } from '@trpc/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../cli/channels-command';
import type { CliIO } from '../cli/io';
import type { AppRouter } from '../gateway/router-type';
import { startTelegramBotApiServer, type TelegramBotApiServer, type TgUser } from '../testing/telegram-bot-api-server';
import { startChannelGateway, type ChannelGateway } from './test-kit';

const MALLORY: TgUser = { id: 6666, first_name: 'Mallory' };
const appCode = (err: unknown) => (err instanceof TRPCClientError ? (err as TRPCClientError<AppRouter>).data?.appCode : undefined);

let tg: TelegramBotApiServer;
let h: ChannelGateway;

beforeEach(async () => {
  tg = await startTelegramBotApiServer();
  h = await startChannelGateway();
});

afterEach(async () => {
  await h.close();
  await tg.close();
});

async function pairingCode(after: number): Promise<string> {
  tg.userMessage({ from: MALLORY, text: 'let me in' });
  const sent = await tg.waitForSent((m, i = tg.sent.indexOf(m)) => i >= after && m.chatId === MALLORY.id && /pairing code is/.test(m.text));
  return /pairing code is ([A-Z0-9]{8})/.exec(sent.text)![1]!;
}

describe('channels are configured by owners, and audited', () => {
  it('refuses a chat device and records what the owner does', async () => {
    await h.connect('telegram', [['telegram.botToken', tg.token], ['telegram.apiRoot', tg.url]]);
    const owner = (await h.client.auth.whoami.query()).deviceId;
    const phone = h.gw.connect(h.gw.addDevice('phone', 'chat')).client;
    const first = await pairingCode(0);
    // What a chat device may do: see the channels (and so it has connected before the comparison).
    expect((await phone.channels.list.query()).find((s) => s.name === 'telegram')?.state).toBe('connected');

    // The code's message is recorded as sent (the queue is idle) before comparing.
    const before = await h.until('the outbound queue to be idle', () => {
      const dump = h.gw.gateway.store.dump();
      return !dump.includes('"status":"pending"') && dump;
    });
    const refused = await Promise.allSettled([
      phone.channels.setEnabled.mutate({ name: 'telegram', enabled: false }),
      phone.channels.approve.mutate({ channel: 'telegram', code: first }),
      phone.channels.deny.mutate({ channel: 'telegram', code: first }),
      phone.channels.revoke.mutate({ channel: 'telegram', senderId: String(MALLORY.id) }),
      phone.settings.set.mutate({ key: 'telegram.dmPolicy', value: 'open' }),
    ]);
    expect(refused.map((r) => (r.status === 'rejected' ? appCode(r.reason) : 'fulfilled'))).toEqual(['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN']);
    expect(h.gw.gateway.store.dump()).toBe(before);

    await h.client.channels.deny.mutate({ channel: 'telegram', code: first });
    const second = await pairingCode(tg.sent.length);
    await h.client.channels.approve.mutate({ channel: 'telegram', code: second });
    await h.client.channels.revoke.mutate({ channel: 'telegram', senderId: String(MALLORY.id) });
    await h.client.channels.setEnabled.mutate({ name: 'telegram', enabled: false });
    // Disabling what is disabled changes nothing and is not recorded.
    await h.client.channels.setEnabled.mutate({ name: 'telegram', enabled: false });

    const { entries } = await h.client.audit.list.query({});
    const channelEntries = entries.filter((e) => e.action.startsWith('channels.')).reverse();
    expect(channelEntries.map((e) => [e.action, e.target, e.deviceId])).toEqual([
      ['channels.enable', 'telegram', owner],
      ['channels.deny', 'telegram:6666', owner],
      ['channels.approve', 'telegram:6666', owner],
      ['channels.revoke', 'telegram:6666', owner],
      ['channels.disable', 'telegram', owner],
    ]);
    expect(channelEntries[1]?.detail).toBe('Mallory');
  });

  it('records a change made by the CLI on the data directory as the local CLI', async () => {
    await h.close();
    const dir = mkdtempSync(join(tmpdir(), 'autoclaw-owner-'));
    try {
      // A gateway made the store and is gone; the CLI works on the data directory itself.
      await (await startChannelGateway({ dir, keepDir: true })).close();
      const io: CliIO = { stdout: { write: () => true }, stderr: { write: () => true }, stdin: process.stdin };
      expect(await run(['enable', '--data', dir, 'discord'], io)).toBe(0);
      h = await startChannelGateway({ dir, keepDir: true });
      const { entries } = await h.client.audit.list.query({});
      expect(entries.find((e) => e.action === 'channels.enable')).toMatchObject({ target: 'discord', deviceId: null });
    } finally {
      await h.close();
      h = await startChannelGateway();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
