// Gateway figures against an "instant provider": the real Anthropic SDK in
// the gateway talking to a local server that speaks the Messages streaming
// protocol and answers at once, on a thread of its own (instant-provider.ts).
// Gateways are spawned from node_modules/.bin.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { ChatEvent, Message } from '@autoclaw/shared';
import { connectAsDevice, type GatewayConnection } from '../server/src/cli/gateway-client';
import { loadOperatorKey } from '../server/src/security/index';
import { startInstantProvider } from './instant-provider';
import { AUTOCLAW, median, percentile, round, spawnGateway, tempDir, treeRssMb, writeFigures } from './support';

const KEY = 'sk-ant-bench-key';
const figures: Record<string, number> = {};
const wire = await startInstantProvider(KEY);
const env = { ANTHROPIC_BASE_URL: wire.url, ANTHROPIC_API_KEY: KEY, AUTOCLAW_MODEL: 'anthropic:claude-haiku-4-5' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/* ---------- cold start: spawn → first 200 from /readyz ---------- */
async function coldStart(): Promise<number> {
  const dir = tempDir('autoclaw-bench-cold-');
  // First use of a data dir makes keys and the database: not part of start-up.
  const init = await spawnGateway(dir.path, env);
  await init.stop();
  const port = await freePort();
  const started = performance.now();
  const child = spawn(AUTOCLAW, ['gateway', '--data', dir.path, '--port', String(port)], { env: { ...process.env, ...env }, stdio: 'ignore' });
  let ms = NaN;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.status === 200) {
        ms = performance.now() - started;
        break;
      }
    } catch {
      // not listening yet
    }
    await sleep(2);
  }
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  dir.remove();
  return ms;
}
const starts: number[] = [];
for (let i = 0; i < 7; i += 1) starts.push(await coldStart());
figures['gateway.cold_start_ms'] = round(median(starts), 1);
figures['gateway.cold_start_ms_max'] = round(Math.max(...starts), 1);

/* ---------- idle memory, turns, CLI ---------- */
const dir = tempDir('autoclaw-bench-gw-');
const gw = await spawnGateway(dir.path, env);
// Idle with two skills enabled: their processes start on first use only.
for (const skill of ['weather', 'notes']) spawnSync(AUTOCLAW, ['skills', 'enable', '--data', dir.path, skill], { stdio: 'ignore' });
await sleep(10_000);
figures['gateway.idle_rss_mb'] = round(treeRssMb(gw.child.pid!), 1);
const threadsOf = (pid: number) => Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
const idleThreads = threadsOf(gw.child.pid!);

const conn: GatewayConnection = connectAsDevice({ url: gw.url, key: loadOperatorKey(dir.path) });
const { client } = conn;
const session = await client.sessions.ensure.mutate({ name: 'bench' });
const waiters = new Map<string, () => void>();
const pendingDone = new Set<string>();
let subscribed!: () => void;
const live = new Promise<void>((r) => (subscribed = r));
const sub = client.chat.events.subscribe(
  { sessionId: session.id },
  {
    onData: ({ data }: { data: ChatEvent }) => {
      subscribed();
      if (data.type !== 'message') return;
      const m: Message = data.message;
      if (m.role === 'user' && (m.status === 'done' || m.status === 'failed')) {
        if (m.status === 'failed') throw new Error(`turn failed: ${m.error?.message}`);
        const w = waiters.get(m.id);
        if (w) w();
        else pendingDone.add(m.id);
      }
    },
  },
);
await live;

/** One turn; returns the gateway's time around the provider, in ms. */
async function turn(text: string): Promise<number> {
  const before = wire.times.length;
  const t0 = performance.now();
  const sent = await client.chat.send.mutate({ sessionId: session.id, clientId: randomUUID(), text });
  await new Promise<void>((resolve) => {
    if (pendingDone.delete(sent.message.id)) return resolve();
    waiters.set(sent.message.id, resolve);
  });
  waiters.delete(sent.message.id);
  const total = performance.now() - t0;
  // The provider's thread tells of a finished request a moment after the gateway may have answered.
  await wire.finished(before + 1);
  const provider = wire.times.slice(before).reduce((sum, ms) => sum + ms, 0);
  return total - provider;
}

for (let i = 0; i < 20; i += 1) await turn(`warm up ${i}`);
// Every turn after the warm-up, fillers included: its slowest is the worst
// stall a user would meet in ~460 turns (a checkpoint's fsync, a GC pause).
const everyTurn: number[] = [];
const timed = async (text: string) => {
  const ms = await turn(text);
  everyTurn.push(ms);
  return ms;
};
// Memory is read at rest both times: what a gateway keeps, not the garbage
// of the turn that just ended, nor the store's checkpoint worker (a thread of
// about 10 MB that runs while writes come and ends about 1 s after its last
// checkpoint; read while it lived, the growth figure swung between 7 and 14).
async function atRest(pid: number): Promise<void> {
  await sleep(1_500);
  const until = Date.now() + 5_000;
  while (threadsOf(pid) > idleThreads && Date.now() < until) await sleep(100);
}
await atRest(gw.child.pid!);
const rssAfterFirst = treeRssMb(gw.child.pid!);
const overheads: number[] = [];
for (let i = 0; i < 200; i += 1) overheads.push(await timed(`hello number ${i}, how are you?`));
await atRest(gw.child.pid!);
const rssAfter200 = treeRssMb(gw.child.pid!);
figures['turn.overhead_p50_ms'] = round(median(overheads));
figures['turn.overhead_p99_ms'] = round(percentile(overheads, 99));
figures['turn.rss_growth_200_mb'] = round(rssAfter200 - rssAfterFirst, 1);

// Grow the session to 500 messages, then measure again.
let count = (await client.chat.history.query({ sessionId: session.id })).length;
while (count < 500) {
  await timed(`filler ${count}`);
  count += 2;
}
const at500: number[] = [];
for (let i = 0; i < 100; i += 1) at500.push(await timed(`late question ${i}`));
figures['turn.overhead_p50_ms_at_500'] = round(median(at500));
figures['turn.overhead_p99_ms_at_500'] = round(percentile(at500, 99));
figures['turn.overhead_max_ms'] = round(Math.max(...everyTurn));
figures['turn.count_for_max'] = everyTurn.length;

sub.unsubscribe();
await conn.close();

// One `autoclaw chat` process, start to exit.
// Bare `node -e 0` is timed in the same loop, turn by turn, so the ratio
// holds whatever else the machine is doing.
async function timedRun(command: string, args: string[]): Promise<number> {
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve) => {
    const c = spawn(command, args, { stdio: 'ignore' });
    c.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`${command} ${args[0]} exited ${code}`);
  return performance.now() - t0;
}
const cli: number[] = [];
const bare: number[] = [];
for (let i = 0; i < 15; i += 1) {
  bare.push(await timedRun(process.execPath, ['-e', '0']));
  cli.push(await timedRun(AUTOCLAW, ['chat', '--data', dir.path, '-m', `cli turn ${i}`]));
}
figures['cli.turn_ms'] = round(median(cli), 1);
figures['cli.node_ms'] = round(median(bare), 1);
figures['cli.turn_vs_node_ratio'] = round(median(cli) / median(bare), 2);

await gw.stop();
dir.remove();

/* ---------- 1000 idle authenticated sockets ---------- */
const dir2 = tempDir('autoclaw-bench-ws-');
const gw2 = await spawnGateway(dir2.path, env);
const key = loadOperatorKey(dir2.path);
await sleep(1_000);
const baseline = treeRssMb(gw2.child.pid!);
const conns: GatewayConnection[] = [];
for (let i = 0; i < 1000; i += 1) {
  const c = connectAsDevice({ url: gw2.url, key });
  conns.push(c);
  await c.client.auth.whoami.query();
}
await sleep(3_000);
figures['ws.idle_clients_1000_rss_mb'] = round(treeRssMb(gw2.child.pid!), 1);
figures['ws.idle_clients_1000_added_mb'] = round(treeRssMb(gw2.child.pid!) - baseline, 1);
await Promise.all(conns.map((c) => c.close()));
await gw2.stop();
dir2.remove();
await wire.close();
writeFigures(figures);
