/**
 * Signal in the bundled gateway process, set up with the CLI: `autoclaw
 * config set` and `channels enable`, `channels list --json` shows it
 * connected; the gateway killed with kill -9 while a stored message waits
 * for its answer answers it after the restart, once; a signal-cli daemon
 * the killed gateway left running is ended by the next one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ensureBundle, runCli, startGatewayProcess, type GatewayProcess } from '../../cli/cli-harness';
import { startAnthropicWireServer, type WireServerHandle } from '../../testing';
import { processRunning as running, writeFakeSignalCli } from '../../testing/fake-signal-cli';
import { startSignalCliServer, type SignalCliServer } from '../../testing/signal-cli-server';
import { until } from '../test-kit';

let dir: string;
let wire: WireServerHandle;
let sig: SignalCliServer;
let gw: GatewayProcess | null = null;

beforeEach(async () => {
  ensureBundle();
  dir = mkdtempSync(join(tmpdir(), 'autoclaw-signal-'));
  wire = await startAnthropicWireServer();
  sig = await startSignalCliServer({ keepAliveMs: 1_000 });
});

afterEach(async () => {
  await gw?.stop('SIGKILL');
  gw = null;
  await sig.close();
  await wire.close();
  rmSync(dir, { recursive: true, force: true });
});

const env = () => ({ ANTHROPIC_BASE_URL: wire.url, ANTHROPIC_API_KEY: 'sk-ant-any', AUTOCLAW_MODEL: 'anthropic:claude-test-model' });
const listed = async () => JSON.parse((await runCli(['channels', 'list', '--data', dir, '--json'])).stdout) as Array<{ name: string; enabled: boolean; state: string; lastError: string | null }>;

it('is set up by the CLI, and answers a message stored before a kill -9 once, after the restart', { timeout: 120_000 }, async () => {
  for (const [key, value] of [['signal.url', sig.url], ['signal.account', '+15550000001'], ['signal.dmPolicy', 'open']] as const) {
    expect((await runCli(['config', 'set', '--data', dir, key], { input: value })).code).toBe(0);
  }
  expect((await listed()).find((r) => r.name === 'signal')).toMatchObject({ enabled: false, state: 'disabled' });
  expect((await runCli(['channels', 'enable', '--data', dir, 'signal'])).code).toBe(0);
  gw = await startGatewayProcess(dir, env());
  await until('signal connected', async () => (await listed()).find((r) => r.name === 'signal')?.state === 'connected', 30_000);

  wire.enqueue({ kind: 'hang', textBefore: 'Thinking about it' });
  sig.incoming({ number: '+15550000002', uuid: '0a0a0a0a-0000-4000-8000-000000000002', name: 'Alice' }, 'survive this');
  const db = new Database(join(dir, 'gateway.db'), { readonly: true });
  try {
    await until('the message and the partial answer to be stored', () =>
      db.prepare("SELECT 1 FROM messages WHERE text = 'survive this'").get() && db.prepare("SELECT 1 FROM messages WHERE text = 'Thinking about it'").get(),
    30_000);
  } finally {
    db.close();
  }
  await gw.stop('SIGKILL');
  gw = null;

  wire.enqueue({ kind: 'text', text: ', and here is the answer.' });
  gw = await startGatewayProcess(dir, env());
  await sig.waitForSent((s) => s.message === 'Thinking about it, and here is the answer.', 40_000).catch((err: unknown) => {
    throw new Error(`${String(err)}; channels: ${JSON.stringify(sig.calls.slice(-5))}; gateway stderr: ${gw?.stderr().slice(-2000)}`);
  });
  // The stream resumed after the stored event: the message came back at most as a duplicate.
  expect(sig.resumedFrom.at(-1)).toBe('1');
  expect(sig.sent.map((s) => s.message)).toEqual(['Thinking about it, and here is the answer.']);
  expect(wire.requests).toHaveLength(2);
  expect(await gw.stop('SIGTERM')).toBe(0);
  gw = null;
});

it('ends the signal-cli daemon a killed gateway left behind, and stops its own on shutdown', { timeout: 120_000 }, async () => {
  const cli = writeFakeSignalCli(dir, sig.url);
  for (const [key, value] of [['signal.cliPath', cli.path], ['signal.account', '+15550000001'], ['signal.dmPolicy', 'open']] as const) {
    expect((await runCli(['config', 'set', '--data', dir, key], { input: value })).code).toBe(0);
  }
  expect((await runCli(['channels', 'enable', '--data', dir, 'signal'])).code).toBe(0);
  const connected = () => until('signal connected', async () => (await listed()).find((r) => r.name === 'signal')?.state === 'connected', 60_000);
  gw = await startGatewayProcess(dir, env());
  await connected();
  const orphan = cli.starts().at(-1)!.pid;
  await gw.stop('SIGKILL');
  gw = null;
  expect(running(orphan)).toBe(true);

  gw = await startGatewayProcess(dir, env());
  await connected();
  await until('the orphan to be ended', () => !running(orphan), 20_000);
  const own = cli.starts().at(-1)!.pid;
  expect(own).not.toBe(orphan);
  sig.incoming({ number: '+15550000002', uuid: '0a0a0a0a-0000-4000-8000-000000000002', name: 'Alice' }, 'still there?');
  await sig.waitForSent((s) => s.message === 'Echo: still there?', 40_000);
  expect(await gw.stop('SIGTERM')).toBe(0);
  gw = null;
  expect(running(own)).toBe(false);
});
