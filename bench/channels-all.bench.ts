// channels.all_idle_rss_mb: the real `autoclaw gateway` with every channel the
// registry lists configured, enabled and connected to its local test server,
// then idle; the RSS of its process tree after it settled. A channel the
// registry gains without a set-up here stops the bench (say how to configure it).
import { spawn } from 'node:child_process';
import { CHANNEL_NAMES, type ChannelName } from '@autoclaw/shared';
import { startAnthropicWireServer } from '../server/src/testing/anthropic-wire-server';
import { startBlueBubblesServer } from '../server/src/testing/bluebubbles-server';
import { startBotFrameworkServer } from '../server/src/testing/bot-framework-server';
import { startDiscordServer } from '../server/src/testing/discord-server';
import { startGoogleChatServer } from '../server/src/testing/google-chat-server';
import { startMatrixServer } from '../server/src/testing/matrix-server';
import { startMattermostServer } from '../server/src/testing/mattermost-server';
import { startSignalCliServer } from '../server/src/testing/signal-cli-server';
import { startSlackServer } from '../server/src/testing/slack-server';
import { startTelegramBotApiServer } from '../server/src/testing/telegram-bot-api-server';
import { startWhatsAppServer } from '../server/src/testing/whatsapp-server';
import { connectAsDevice } from '../server/src/cli/gateway-client';
import { loadOperatorKey } from '../server/src/security/index';
import { AUTOCLAW, round, spawnGateway, tempDir, treeRssMb, writeFigures } from './support';

const KEY = 'sk-ant-bench-key';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Setup {
  /** Settings in the order a user gives them (each endpoint before its secrets). */
  settings: Array<readonly [string, string]>;
  /** A channel that links by QR code: the phone scans what the gateway shows. */
  scan?(qr: string): void;
  close(): Promise<void>;
}

/** How each channel is pointed at its local server (real platforms' idle paces). */
const SETUPS: Partial<Record<ChannelName, () => Promise<Setup>>> = {
  telegram: async () => {
    const s = await startTelegramBotApiServer();
    return { settings: [['telegram.apiRoot', s.url], ['telegram.botToken', s.token]], close: () => s.close() };
  },
  discord: async () => {
    const s = await startDiscordServer({ heartbeatIntervalMs: 41_250 });
    return { settings: [['discord.apiRoot', s.apiRoot], ['discord.token', s.token]], close: () => s.close() };
  },
  slack: async () => {
    const s = await startSlackServer();
    return { settings: [['slack.apiRoot', s.apiRoot], ['slack.botToken', s.botToken], ['slack.appToken', s.appToken]], close: () => s.close() };
  },
  matrix: async () => {
    const s = await startMatrixServer();
    return { settings: [['matrix.homeserverUrl', s.url], ['matrix.accessToken', s.token]], close: () => s.close() };
  },
  mattermost: async () => {
    const s = await startMattermostServer();
    return { settings: [['mattermost.url', s.url], ['mattermost.token', s.token]], close: () => s.close() };
  },
  imessage: async () => {
    const s = await startBlueBubblesServer();
    return { settings: [['imessage.url', s.url], ['imessage.password', s.password]], close: () => s.close() };
  },
  teams: async () => {
    const s = await startBotFrameworkServer();
    return {
      settings: [['teams.openIdMetadataUrl', s.metadataUrl], ['teams.tokenUrl', s.tokenUrl], ['teams.appId', s.appId], ['teams.appPassword', s.appPassword]],
      close: () => s.close(),
    };
  },
  googlechat: async () => {
    const s = await startGoogleChatServer();
    return {
      settings: [['googlechat.certsUrl', s.certsUrl], ['googlechat.tokenUrl', s.tokenUrl], ['googlechat.apiRoot', s.apiRoot], ['googlechat.audience', s.projectNumber], ['googlechat.serviceAccount', s.serviceAccountJson]],
      close: () => s.close(),
    };
  },
  signal: async () => {
    const s = await startSignalCliServer();
    return { settings: [['signal.url', s.url], ['signal.account', '+15550000001']], close: () => s.close() };
  },
  // Linked by its QR code once the gateway runs, then idle on the linked session (baileys' pings only).
  whatsapp: async () => {
    const s = await startWhatsAppServer();
    return { settings: [['whatsapp.url', s.url], ['whatsapp.serverKey', s.rootKey]], scan: (qr) => s.scan(qr), close: () => s.close() };
  },
};

function cli(args: string[], input = ''): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(AUTOCLAW, args, { stdio: ['pipe', 'ignore', 'inherit'] });
    child.stdin.end(input);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`autoclaw ${args.join(' ')} exited ${code}`))));
  });
}

// Profiling aid: AUTOCLAW_BENCH_CHANNELS=a,b measures those channels alone and records no figure.
const only = process.env.AUTOCLAW_BENCH_CHANNELS?.split(',').filter(Boolean);
const NAMES = only ? CHANNEL_NAMES.filter((name) => only.includes(name)) : CHANNEL_NAMES;
const missing = CHANNEL_NAMES.filter((name) => !SETUPS[name]);
if (missing.length > 0) throw new Error(`channels-all bench: no local set-up for ${missing.join(', ')} (add one to SETUPS)`);

const wire = await startAnthropicWireServer({ apiKey: KEY });
const dir = tempDir('autoclaw-bench-all-channels-');
const setups: Setup[] = [];
const scanners = new Map<ChannelName, (qr: string) => void>();
for (const name of NAMES) {
  const setup = await SETUPS[name]!();
  setups.push(setup);
  if (setup.scan) scanners.set(name, setup.scan.bind(setup));
  for (const [key, value] of [...setup.settings, [`${name}.dmPolicy`, 'open'] as const]) await cli(['config', 'set', '--data', dir.path, key], value);
  await cli(['channels', 'enable', '--data', dir.path, name]);
}

const gw = await spawnGateway(dir.path, { ANTHROPIC_BASE_URL: wire.url, ANTHROPIC_API_KEY: KEY, AUTOCLAW_MODEL: 'anthropic:claude-haiku-4-5' });
const conn = connectAsDevice({ url: gw.url, key: loadOperatorKey(dir.path) });
const states = async () => (await conn.client.channels.list.query()).map((s) => `${s.name}:${s.state}${s.lastError ? ` (${s.lastError})` : ''}`);
const allConnected = async () => (await conn.client.channels.list.query()).every((s) => s.state === 'connected');
const deadline = Date.now() + 60_000;
const scanned = new Set<string>();
/** Shows each new QR code to its phone; true once every channel is connected with no QR code left. */
const settled = async () => {
  const list = await conn.client.channels.list.query();
  for (const s of list) {
    const scan = scanners.get(s.name);
    if (s.qr && scan && !scanned.has(s.qr)) {
      scanned.add(s.qr);
      scan(s.qr);
    }
  }
  // A linked channel is "connected" while it shows its QR code, and logs in again after the link.
  return list.every((s) => s.state === 'connected' && s.qr === null);
};
while (!(await settled())) {
  if (Date.now() > deadline) throw new Error(`not every channel connected and linked: ${(await states()).join(', ')}`);
  await sleep(100);
}

// Idle: only the platforms' own heartbeats, pings and keep-alives run.
await sleep(15_000);
if (!(await allConnected())) throw new Error(`a channel dropped while idle: ${(await states()).join(', ')}`);
const rss = round(treeRssMb(gw.child.pid!), 1);
console.log(`${NAMES.length} channels connected: ${NAMES.join(', ')}; rss ${rss} MB`);

await conn.close();
await gw.stop();
dir.remove();
await Promise.all(setups.map((s) => s.close()));
await wire.close();
writeFigures(only ? {} : { 'channels.all_idle_rss_mb': rss, 'channels.all_idle_count': CHANNEL_NAMES.length });
