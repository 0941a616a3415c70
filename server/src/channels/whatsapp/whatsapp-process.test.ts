/**
 * WhatsApp in the bundled gateway process (baileys inside the esbuild
 * bundle), set up with the CLI and linked by the QR code `channels list
 * --json` shows; a burst of messages, the gateway killed with kill -9 as soon
 * as the first is stored (the rest in flight, some decrypted, some not yet
 * receipted); after the restart every message made exactly one turn, and the
 * local WhatsApp server holds no message without its receipt.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ensureBundle, runCli, startGatewayProcess, type GatewayProcess } from '../../cli/cli-harness';
import { startAnthropicWireServer, type WireServerHandle } from '../../testing';
import { startWhatsAppServer, type WhatsAppServer } from '../../testing/whatsapp-server';
import { until } from '../test-kit';

let dir: string;
let wire: WireServerHandle;
let wa: WhatsAppServer;
let gw: GatewayProcess | null = null;

beforeEach(async () => {
  ensureBundle();
  dir = mkdtempSync(join(tmpdir(), 'autoclaw-whatsapp-'));
  wire = await startAnthropicWireServer();
  wa = await startWhatsAppServer();
});

afterEach(async () => {
  await gw?.stop('SIGKILL');
  gw = null;
  await wa.close();
  await wire.close();
  rmSync(dir, { recursive: true, force: true });
});

const env = () => ({ ANTHROPIC_BASE_URL: wire.url, ANTHROPIC_API_KEY: 'sk-ant-any', AUTOCLAW_MODEL: 'anthropic:claude-test-model' });
const listed = async () => JSON.parse((await runCli(['channels', 'list', '--data', dir, '--json'])).stdout) as Array<{ name: string; state: string; qr?: string }>;
const whatsapp = async () => (await listed()).find((r) => r.name === 'whatsapp');

it('links by QR through the CLI, and after a kill -9 mid-receive makes one turn per message', { timeout: 150_000 }, async () => {
  for (const [key, value] of [['whatsapp.url', wa.url], ['whatsapp.serverKey', wa.rootKey], ['whatsapp.dmPolicy', 'open']] as const) {
    expect((await runCli(['config', 'set', '--data', dir, key], { input: value })).code).toBe(0);
  }
  expect((await runCli(['channels', 'enable', '--data', dir, 'whatsapp'])).code).toBe(0);
  gw = await startGatewayProcess(dir, env());
  const qr = await until('the QR code', async () => (await whatsapp())?.qr, 30_000);
  const table = await runCli(['channels', 'list', '--data', dir]);
  expect(table.stdout).toContain(`whatsapp: link it by scanning the QR code on the Channels page (payload: ${qr})`);
  wa.scan(qr);
  await until('whatsapp connected', async () => {
    const row = await whatsapp();
    return row?.state === 'connected' && row.qr === undefined && wa.connections() === 1;
  }, 30_000);

  const alice = { number: '15550002222', name: 'Alice' };
  const texts = ['burst 1', 'burst 2', 'burst 3', 'burst 4', 'burst 5'];
  for (const text of texts) await wa.incoming(alice, text);
  const db = new Database(join(dir, 'gateway.db'), { readonly: true });
  try {
    await until('the first message to be stored', () => db.prepare("SELECT 1 FROM messages WHERE text LIKE 'burst %'").get(), 30_000);
    await gw.stop('SIGKILL');
    gw = null;
    gw = await startGatewayProcess(dir, env());
    await until('every message stored', () => (db.prepare("SELECT count(*) AS n FROM messages WHERE text LIKE 'burst %'").get() as { n: number }).n >= texts.length, 30_000);
    await until('every message receipted', () => texts.length <= wa.receipts.size, 30_000);
    const stored = db.prepare("SELECT text FROM messages WHERE text LIKE 'burst %' ORDER BY id").all() as Array<{ text: string }>;
    expect(stored.map((r) => r.text).sort()).toEqual(texts);
  } finally {
    db.close();
  }
  expect(wa.logins).toBe(2);
  expect(await gw.stop('SIGTERM')).toBe(0);
  gw = null;
});
