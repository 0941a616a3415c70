// Channel figures, with the real `autoclaw gateway` spawned from
// node_modules/.bin, the real grammy and discord.js inside it, local
// Telegram Bot API and Discord servers, and an instant Anthropic provider.
import { spawn } from 'node:child_process';
import type { ChannelEvent } from '@autoclaw/shared';
import { startAnthropicWireServer } from '../server/src/testing/anthropic-wire-server';
import { startTelegramBotApiServer } from '../server/src/testing/telegram-bot-api-server';
import { startDiscordServer } from '../server/src/testing/discord-server';
import { connectAsDevice } from '../server/src/cli/gateway-client';
import { loadOperatorKey } from '../server/src/security/index';
import { AUTOCLAW, percentile, round, spawnGateway, tempDir, treeRssMb, writeFigures } from './support';

const KEY = 'sk-ant-bench-key';
const figures: Record<string, number> = {};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const wire = await startAnthropicWireServer({ apiKey: KEY });
const env = { ANTHROPIC_BASE_URL: wire.url, ANTHROPIC_API_KEY: KEY, AUTOCLAW_MODEL: 'anthropic:claude-haiku-4-5' };

function cli(args: string[], input = ''): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(AUTOCLAW, args, { stdio: ['pipe', 'ignore', 'inherit'] });
    child.stdin.end(input);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`autoclaw ${args.join(' ')} exited ${code}`))));
  });
}

async function until(what: string, fn: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/* ---------- a gateway with Telegram and Discord connected ---------- */
const tg = await startTelegramBotApiServer();
// Discord's real heartbeat interval: an idle gateway beats at this pace.
const dc = await startDiscordServer({ heartbeatIntervalMs: 41_250 });
const dir = tempDir('autoclaw-bench-channels-');
for (const [key, value] of [
  // Each endpoint before its token: a changed endpoint clears the tokens stored for it.
  ['telegram.apiRoot', tg.url],
  ['telegram.botToken', tg.token],
  ['telegram.dmPolicy', 'open'],
  ['discord.apiRoot', dc.apiRoot],
  ['discord.token', dc.token],
  ['discord.dmPolicy', 'open'],
] as const) {
  await cli(['config', 'set', '--data', dir.path, key], value);
}
await cli(['channels', 'enable', '--data', dir.path, 'telegram']);
await cli(['channels', 'enable', '--data', dir.path, 'discord']);

const gw = await spawnGateway(dir.path, env);
const conn = connectAsDevice({ url: gw.url, key: loadOperatorKey(dir.path) });
const connected = async () => (await conn.client.channels.list.query()).filter((s) => s.state === 'connected').length === 2;
await until('Telegram and Discord connected', connected);

/* ---------- channels.idle_rss_mb ---------- */
await sleep(10_000);
if (!(await connected())) throw new Error('a channel dropped while idle');
figures['channels.idle_rss_mb'] = round(treeRssMb(gw.child.pid!), 1);

/* ---------- channels.telegram_turn_overhead_p99_ms: update handed over → first sendMessage ---------- */
async function turn(i: number): Promise<number> {
  const chatId = 10_000 + (i % 20);
  const text = `hello number ${i}`;
  const before = tg.sent.length;
  const update = tg.userMessage({ from: { id: chatId, first_name: `User ${chatId}` }, text });
  const id = Number(update['update_id']);
  await until(`the answer to ${i}`, () => tg.sent.slice(before).some((m) => m.chatId === chatId && m.text === `Echo: ${text}`));
  const first = tg.calls.find((c) => c.method === 'sendMessage' && Number(c.body['chat_id']) === chatId && c.at >= tg.deliveredAt.get(id)!);
  return first!.at - tg.deliveredAt.get(id)!;
}
// Warm up: every chat's session exists, code paths are compiled.
for (let i = 0; i < 40; i += 1) await turn(i);
const overheads: number[] = [];
for (let i = 0; i < 200; i += 1) {
  overheads.push(await turn(i));
  wire.requests.length = 0;
}
figures['channels.telegram_turn_overhead_p50_ms'] = round(percentile(overheads, 50));
figures['channels.telegram_turn_overhead_p99_ms'] = round(percentile(overheads, 99));
await conn.close();
await gw.stop();
dir.remove();
await Promise.all([tg.close(), dc.close()]);

/* ---------- channels.watchdog_detect_ms: Discord stops acknowledging heartbeats → reconnecting ---------- */
const fast = await startDiscordServer({ heartbeatIntervalMs: 1_000 });
const dir2 = tempDir('autoclaw-bench-watchdog-');
await cli(['config', 'set', '--data', dir2.path, 'discord.apiRoot'], fast.apiRoot);
await cli(['config', 'set', '--data', dir2.path, 'discord.token'], fast.token);
await cli(['channels', 'enable', '--data', dir2.path, 'discord']);
const gw2 = await spawnGateway(dir2.path, env);
const conn2 = connectAsDevice({ url: gw2.url, key: loadOperatorKey(dir2.path) });
const detections: number[] = [];
for (let round_ = 0; round_ < 5; round_ += 1) {
  await until('Discord connected', async () => (await conn2.client.channels.list.query()).some((s) => s.name === 'discord' && s.state === 'connected'));
  // A few acknowledged beats first, so the limit is the one HELLO gave.
  await sleep(2_500);
  const reconnecting = new Promise<number>((resolve) => {
    const sub = conn2.client.channels.events.subscribe(undefined, {
      onData: (event: ChannelEvent) => {
        if (event.type === 'status' && event.status.name === 'discord' && event.status.state === 'reconnecting') {
          sub.unsubscribe();
          resolve(performance.now());
        }
      },
    });
  });
  await sleep(200);
  const stoppedAt = performance.now();
  fast.stopAcks(true);
  detections.push((await reconnecting) - stoppedAt);
  fast.stopAcks(false);
}
// The limit for a 1 s heartbeat interval is 5 s (three intervals and two seconds).
figures['channels.watchdog_detect_ms'] = round(Math.max(...detections), 1);
figures['channels.watchdog_limit_ms'] = 5_000;
await conn2.close();
await gw2.stop();
dir2.remove();
await fast.close();
await wire.close();
writeFigures(figures);
