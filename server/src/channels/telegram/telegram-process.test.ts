/**
 * Telegram with the real `autoclaw` command: configured and enabled with the
 * CLI, the gateway killed with `kill -9` after a message was stored but
 * before its answer — answered after the restart, once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Message } from '@autoclaw/shared';
import { ensureBundle, runCli, startGatewayProcess, type GatewayProcess } from '../../cli/cli-harness';
import { startAnthropicWireServer, type WireServerHandle } from '../../testing';
import { startTelegramBotApiServer, type TelegramBotApiServer, type TgUser } from '../../testing/telegram-bot-api-server';
import { until } from '../test-kit';

const ALICE: TgUser = { id: 5150, first_name: 'Alice' };
const MALLORY: TgUser = { id: 6666, first_name: 'Mallory' };

let dir: string;
let tg: TelegramBotApiServer;
let wire: WireServerHandle;
let gw: GatewayProcess | null = null;
let env: Record<string, string>;

async function cli(args: string[], input?: string) {
  const res = await runCli([args[0]!, '--data', dir, ...args.slice(1)], input === undefined ? {} : { input });
  if (res.code !== 0) throw new Error(`autoclaw ${args.join(' ')} exited ${res.code}: ${res.stderr}`);
  return res.stdout;
}

interface Row {
  name: string;
  enabled: boolean;
  state: string;
  since: number | null;
  lastInboundAt: number | null;
  lastError: string | null;
}

const list = async () => JSON.parse(await cli(['channels', 'list', '--json'])) as Row[];
const telegramRow = async () => (await list()).find((r) => r.name === 'telegram')!;

beforeEach(async () => {
  ensureBundle();
  dir = mkdtempSync(join(tmpdir(), 'autoclaw-tg-proc-'));
  tg = await startTelegramBotApiServer();
  wire = await startAnthropicWireServer();
  env = { ANTHROPIC_BASE_URL: wire.url, ANTHROPIC_API_KEY: 'sk-ant-any', AUTOCLAW_MODEL: 'anthropic:claude-test-model' };
});

afterEach(async () => {
  await gw?.stop('SIGKILL');
  gw = null;
  await tg.close();
  await wire.close();
  rmSync(dir, { recursive: true, force: true });
});

it('is configured with the CLI, survives kill -9 between storing a message and answering it, and answers once', { timeout: 90_000 }, async () => {
  await cli(['config', 'set', 'telegram.apiRoot'], tg.url);
  await cli(['config', 'set', 'telegram.botToken'], tg.token);
  await cli(['config', 'set', 'telegram.allowFrom'], `${ALICE.id}, 777`);
  expect(await cli(['channels', 'enable', 'telegram'])).toMatch(/enabled telegram \(takes effect when the gateway starts\)/);
  const offline = await telegramRow();
  expect(offline).toEqual({ name: 'telegram', enabled: true, state: 'down', since: null, lastInboundAt: null, lastError: 'the gateway is not running' });

  gw = await startGatewayProcess(dir, env);
  const up = await until('telegram connected', async () => {
    const row = await telegramRow();
    return row.state === 'connected' ? row : null;
  }, 20_000);
  expect(Object.keys(up).sort()).toEqual(['enabled', 'lastError', 'lastInboundAt', 'name', 'since', 'state']);
  expect(up.since).toBeGreaterThan(0);
  expect((await list()).find((r) => r.name === 'discord')?.state ?? 'disabled').toBe('disabled');

  // The provider starts the answer and never finishes it: the turn is running when the gateway dies.
  wire.enqueue({ kind: 'hang', textBefore: 'Thinking about it' });
  const update = tg.userMessage({ from: ALICE, text: 'survive this' });
  await until('the turn to reach the provider', () => wire.requests.length === 1);
  await tg.waitForSent((m) => m.chatId === ALICE.id && m.text.startsWith('Thinking'));
  // Killed once the streamed text and the platform message made for it are stored (the store lags the stream by up to 250 ms).
  const db = new Database(join(dir, 'gateway.db'), { readonly: true });
  try {
    await until('the partial answer and its platform message to be stored', () =>
      db.prepare("SELECT 1 FROM messages m JOIN channel_sent s ON s.message_id = m.id WHERE m.text = 'Thinking about it'").get(),
    );
  } finally {
    db.close();
  }
  await gw.stop('SIGKILL');
  gw = null;

  // Telegram delivers the same message again after the restart: still one turn.
  tg.pushUpdate({ message: update['message'] });
  wire.enqueue({ kind: 'text', text: ', and here is the answer.' });
  gw = await startGatewayProcess(dir, env);
  const shown = await until('the answer in the same Telegram message', () => {
    const mine = tg.sent.filter((m) => m.chatId === ALICE.id);
    return mine.length === 1 && mine[0]!.text.endsWith('here is the answer.') ? mine[0] : undefined;
  }, 20_000);
  expect(shown!.text).toBe('Thinking about it, and here is the answer.');
  expect(wire.requests).toHaveLength(2);

  const history = JSON.parse((await runCli(['history', '--data', dir, '--session', `telegram:dm:${ALICE.id}`, '--json'])).stdout) as Message[];
  expect(history.filter((m) => m.role === 'user').map((m) => [m.text, m.status])).toEqual([['survive this', 'done']]);
  expect(history.filter((m) => m.role === 'assistant').map((m) => m.text)).toEqual(['Thinking about it, and here is the answer.']);

  // A stranger is approved with the CLI while the gateway runs.
  tg.userMessage({ from: MALLORY, text: 'hi' });
  const codeMessage = await tg.waitForSent((m) => m.chatId === MALLORY.id);
  const code = /pairing code is ([A-Z0-9]{8})/.exec(codeMessage.text)?.[1];
  expect(await cli(['channels', 'approve', 'telegram', code!])).toBe(`approved Mallory (${MALLORY.id}) on telegram\n`);
  await tg.waitForSent((m) => m.chatId === MALLORY.id && m.text.startsWith('You are approved'));
  expect((await runCli(['channels', 'approve', '--data', dir, 'telegram', code!])).stderr).toMatch(/no pending pairing/);

  expect(await cli(['channels', 'disable', 'telegram'])).toBe('disabled telegram\n');
  expect((await telegramRow()).state).toBe('disabled');
  expect((await runCli(['channels', 'enable', '--data', dir, 'icq'])).code).toBe(2);
  expect(await gw.stop('SIGTERM')).toBe(0);
});
