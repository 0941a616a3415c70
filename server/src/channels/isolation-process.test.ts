/**
 * Isolation in a real gateway process: Telegram and Discord connected, then
 * discord.js's gateway client throws inside its own socket message handler
 * (a HELLO without data) — outside any promise chain of ours. The gateway keeps
 * running, Discord alone is restarted, and both channels answer again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ensureBundle, runCli, startGatewayProcess, type GatewayProcess } from '../cli/cli-harness';
import { connectAsDevice, type GatewayConnection } from '../cli';
import { loadOperatorKey } from '../security';
import { startAnthropicWireServer, type WireServerHandle } from '../testing';
import { startDiscordServer, type DiscordServer } from '../testing/discord-server';
import { startTelegramBotApiServer, type TelegramBotApiServer } from '../testing/telegram-bot-api-server';
import { until } from './test-kit';

let dir: string;
let tg: TelegramBotApiServer;
let dc: DiscordServer;
let wire: WireServerHandle;
let gw: GatewayProcess | null = null;
let conn: GatewayConnection | null = null;

async function config(key: string, value: string) {
  const res = await runCli(['config', 'set', '--data', dir, key], { input: value });
  if (res.code !== 0) throw new Error(res.stderr);
}

beforeEach(async () => {
  ensureBundle();
  dir = mkdtempSync(join(tmpdir(), 'autoclaw-iso-'));
  tg = await startTelegramBotApiServer();
  dc = await startDiscordServer({ heartbeatIntervalMs: 1_000, guild: { id: '500000000000000001', name: 'Home', channelId: '600000000000000001' } });
  wire = await startAnthropicWireServer();
});

afterEach(async () => {
  await conn?.close();
  conn = null;
  await gw?.stop('SIGKILL');
  gw = null;
  await Promise.all([tg.close(), dc.close(), wire.close()]);
  rmSync(dir, { recursive: true, force: true });
});

it('keeps the gateway and the other channels working when a channel SDK throws inside an event handler', { timeout: 90_000 }, async () => {
  await config('telegram.apiRoot', tg.url);
  await config('telegram.botToken', tg.token);
  await config('telegram.dmPolicy', 'open');
  await config('discord.apiRoot', dc.apiRoot);
  await config('discord.token', dc.token);
  await config('discord.dmPolicy', 'open');
  for (const name of ['telegram', 'discord']) expect((await runCli(['channels', 'enable', '--data', dir, name])).code).toBe(0);

  gw = await startGatewayProcess(dir, { ANTHROPIC_BASE_URL: wire.url, ANTHROPIC_API_KEY: 'sk-ant-any', AUTOCLAW_MODEL: 'anthropic:claude-test-model' });
  conn = connectAsDevice({ url: gw.url, key: loadOperatorKey(dir) });
  const client = conn.client;
  const states = async () => Object.fromEntries((await client.channels.list.query()).map((s) => [s.name, s.state]));
  await until('both channels connected', async () => {
    const s = await states();
    return s['telegram'] === 'connected' && s['discord'] === 'connected';
  }, 20_000);

  // A HELLO without data: discord.js's gateway client reads its heartbeat interval inside its
  // socket message handler and throws there, outside any promise chain of ours.
  dc.raw({ op: 10, d: null });
  const notice = await until('the Discord restart notice', async () =>
    (await client.notices.list.query({ limit: 20 })).notices.find((n) => n.title === 'Discord is reconnecting'),
  );
  expect(notice.body).toMatch(/heartbeat_interval/);
  expect(gw.child.exitCode).toBeNull();

  // Telegram never noticed.
  tg.userMessage({ from: { id: 77, first_name: 'Tess' }, text: 'still with me?' });
  await until('the Telegram answer', () => tg.sent.find((m) => m.chatId === 77 && m.text === 'Echo: still with me?'));
  const telegram = await client.channels.get.query({ name: 'telegram' });
  expect(telegram.history.filter((c) => c.state === 'reconnecting' && c.error !== null)).toEqual([]);

  // Discord is back on a fresh connection and answers.
  await until('Discord connected again', async () => (await states())['discord'] === 'connected');
  dc.userMessage({ author: { id: '310000000000000009', username: 'dan' }, content: 'and you?' });
  await until('the Discord answer', () => dc.sent.find((m) => m.content === 'Echo: and you?'));
  expect(dc.received.filter((r) => r.op === 2).length).toBeGreaterThanOrEqual(2);
  expect(gw.stderr()).toMatch(/a channel failed outside its handlers/);
  expect(await gw.stop('SIGTERM')).toBe(0);
});
