// Density with scale to zero: real manager and gateway processes (local
// driver), accounts made through the manager's sign-up, an instant provider
// (the real Anthropic SDK against a local wire server).
//   scale.wake_to_first_token_ms      a sleeping instance; a client connects through the door → first streamed token
//   scale.asleep_bytes_per_instance   manager RSS growth per sleeping instance
//   scale.wake_step_*_ms              the same path in steps: door_wake (sleeping → the door's /healthz answered),
//                                     device_auth (connect + device auth + a first call), first_token (send → first token)
//   scale.1000_accounts_rss_gb        AUTOCLAW_BENCH_ACCOUNTS (default 1,000) accounts, 50 awake, the rest asleep:
//                                     RSS of the manager and every gateway process, summed
// Phase 1 runs the manager with --provision-asleep (a sign-up makes the
// instance's storage and keys, no process) and a 6 s idle time (the first
// account, woken for the wake figure, sleeps again between wakes); phase 2
// restarts it with 10 minutes and wakes 50: each gets a paired client through
// the door that stays connected and sends a message, answered before RSS is read.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatEvent } from '@autoclaw/shared';
import { startAnthropicWireServer } from '../server/src/testing/anthropic-wire-server';
import { connectAsDevice } from '../server/src/cli/gateway-client';
import { generateDeviceKey, signPayload } from '../server/src/security/index';
import { pairWithTicket } from '../server/src/manager/instances/gateway-link';
import { instanceDir, LOG_FILE } from '../server/src/manager/drivers/local/index';
import { AUTOCLAW, managerCall, median, processRssMb, round, tempDir, writeFigures } from './support';

interface InstanceView {
  id: string;
  state: string;
}

const ACCOUNTS = Number(process.env['AUTOCLAW_BENCH_ACCOUNTS'] ?? 1000);
const AWAKE = Math.min(50, ACCOUNTS);
const BATCH = 8;
const PASSWORD = 'correct horse battery staple';
const figures: Record<string, number> = {};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = tempDir('autoclaw-bench-scale-');
const wire = await startAnthropicWireServer();
const env = { ...process.env, ANTHROPIC_BASE_URL: wire.url, AUTOCLAW_MODEL: 'anthropic:claude-test-model' };

async function startManager(sleepAfterMinutes: string): Promise<{ child: ChildProcess; url: string }> {
  // Provisioned asleep: a sign-up makes the instance's storage and keys, not a process (the first client wakes it).
  const child = spawn(AUTOCLAW, ['manager', '--data', dir.path, '--port', '0', '--signup', 'open', '--sleep-after', sleepAfterMinutes, '--provision-asleep'], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^(http:\/\/127\.0\.0\.1:\d+)\s*$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr!.resume();
    child.once('exit', (code) => reject(new Error(`manager exited ${code}`)));
  });
  return { child, url };
}

async function stopManager(child: ChildProcess): Promise<void> {
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

let manager = await startManager('0.1');

const call = <T>(method: 'GET' | 'POST', path: string, input?: unknown, token?: string): Promise<T> => managerCall<T>(manager.url, method, path, input, token);

async function signUp(i: number): Promise<string> {
  return (await call<{ token: string }>('POST', 'auth.signUp', { email: `user${i}@example.com`, password: PASSWORD })).token;
}

async function waitState(token: string, states: string[]): Promise<InstanceView> {
  for (;;) {
    const inst = await call<InstanceView | null>('GET', 'instances.mine', undefined, token);
    if (inst && states.includes(inst.state)) return inst;
    if (inst?.state === 'failed') throw new Error('instance failed');
    await sleep(50);
  }
}

/** Gateway processes of this manager: its instances' and its warm standbys (their command lines name a directory under its data). */
function gatewayPids(): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const args = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        return args.includes('gateway') && args.some((a) => a.startsWith(dir.path));
      } catch {
        return false;
      }
    })
    .map(Number);
}

/* ---------- wake → first token, on the first account ---------- */
const firstToken = await signUp(0);
const first = await waitState(firstToken, ['running', 'sleeping']);
const door = `${manager.url}/i/${first.id}`;
const key = generateDeviceKey();
const { ticket } = await call<{ ticket: string }>('POST', 'instances.pairDevice', { instanceId: first.id, publicKey: key.publicKey, deviceName: 'bench' }, firstToken);
// The door admits only the instance's owner (their session token).
const owner = { authorization: `Bearer ${firstToken}` };
await pairWithTicket(door, ticket, { publicKey: key.publicKey, sign: (p) => signPayload(key.privateKey, p) }, Date.now, owner);
let sessionId = '';
{
  const conn = connectAsDevice({ url: door, key, headers: owner });
  await conn.client.settings.set.mutate({ key: 'anthropic.apiKey', value: 'sk-ant-bench-0123456789' });
  sessionId = (await conn.client.sessions.create.mutate({})).id;
  await conn.close();
}
const baselineRss = processRssMb(manager.child.pid!);
const wakes: number[] = [];
for (let i = 0; i < 5; i += 1) {
  await waitState(firstToken, ['sleeping']);
  const t0 = performance.now();
  const conn = connectAsDevice({ url: door, key, headers: owner });
  const token = new Promise<number>((resolve, reject) => {
    const sub = conn.client.chat.events.subscribe(
      { sessionId },
      {
        onData: ({ data }: { data: ChatEvent }) => {
          if (data.type === 'delta' && data.text.length > 0) {
            resolve(performance.now() - t0);
            sub.unsubscribe();
          }
        },
        onError: reject,
      },
    );
  });
  await conn.client.chat.send.mutate({ sessionId, clientId: `bench-wake-${i}-${Date.now()}`, text: `good morning ${i}` });
  wakes.push(await token);
  await conn.close();
}
figures['scale.wake_to_first_token_ms'] = round(median(wakes), 1);
console.log(`wake → first token: ${wakes.map((w) => round(w, 1)).join(', ')} ms`);

/* ---------- where a wake's time goes: the same path in steps, each awaited before the next ---------- */
const steps: Record<string, number[]> = { door_wake: [], device_auth: [], first_token: [] };
const gatewayStart: Array<Record<string, number>> = [];
for (let i = 0; i < 3; i += 1) {
  await waitState(firstToken, ['sleeping']);
  let t = performance.now();
  const health = await fetch(`${door}/healthz`, { headers: owner });
  if (!health.ok) throw new Error(`door /healthz ${health.status}`);
  steps['door_wake']!.push(performance.now() - t);
  t = performance.now();
  const conn = connectAsDevice({ url: door, key, headers: owner });
  await conn.client.chat.history.query({ sessionId });
  steps['device_auth']!.push(performance.now() - t);
  t = performance.now();
  const token = new Promise<number>((resolve, reject) => {
    const sub = conn.client.chat.events.subscribe({ sessionId }, {
      onData: ({ data }: { data: ChatEvent }) => {
        if (data.type === 'delta' && data.text.length > 0) {
          resolve(performance.now() - t);
          sub.unsubscribe();
        }
      },
      onError: reject,
    });
  });
  await conn.client.chat.send.mutate({ sessionId, clientId: `bench-steps-${i}-${Date.now()}`, text: `step ${i}` });
  steps['first_token']!.push(await token);
  await conn.close();
  // The woken gateway's own account of its start (its "gateway listening" log line).
  const started = readFileSync(join(instanceDir(dir.path, first.id), LOG_FILE), 'utf8').split('\n').filter((l) => l.includes('"gateway listening"')).pop();
  if (started) gatewayStart.push((JSON.parse(started) as { startMs: Record<string, number> }).startMs);
}
for (const [name, values] of Object.entries(steps)) figures[`scale.wake_step_${name}_ms`] = round(median(values), 1);
console.log(`wake in steps (median ms): ${Object.entries(steps).map(([n, v]) => `${n} ${round(median(v), 1)}`).join(', ')}`);
console.log(`woken gateway's start (ms): ${gatewayStart.map((s) => JSON.stringify(s)).join(' ')}`);

/* ---------- provision the rest through sign-up, a few at a time (provisioned asleep) ---------- */
const tokens: string[] = [firstToken];
const started = performance.now();
for (let i = 1; i < ACCOUNTS; i += BATCH) {
  const batch = await Promise.all(Array.from({ length: Math.min(BATCH, ACCOUNTS - i) }, (_, j) => signUp(i + j)));
  tokens.push(...batch);
  await Promise.all(batch.map((t) => waitState(t, ['running', 'sleeping'])));
  if (i % 100 === 1) console.log(`${tokens.length} accounts provisioned (${Math.round((performance.now() - started) / 1000)} s)`);
}
for (const t of tokens) await waitState(t, ['sleeping']);
await sleep(2_000);
const asleepRss = processRssMb(manager.child.pid!);
figures['scale.asleep_bytes_per_instance'] = Math.max(0, Math.round(((asleepRss - baselineRss) * 1024 * 1024) / Math.max(1, ACCOUNTS - 1)));
console.log(`${ACCOUNTS} accounts asleep after ${Math.round((performance.now() - started) / 1000)} s; manager RSS ${round(baselineRss, 1)} → ${round(asleepRss, 1)} MiB; gateway processes left: ${gatewayPids().length}`);

/* ---------- 50 awake, the rest asleep: 50 clients connected through the door, each sends a message ---------- */
await stopManager(manager.child);
manager = await startManager('10');
const awake = tokens.slice(0, AWAKE);
const clients: Array<{ close(): Promise<void> }> = [];
async function connectAndChat(token: string, i: number): Promise<void> {
  const inst = await call<InstanceView>('GET', 'instances.mine', undefined, token);
  const device = generateDeviceKey();
  // Pairing is the manager acting on the instance: it wakes it (the first account's was paired above already).
  const { ticket } = await call<{ ticket: string }>('POST', 'instances.pairDevice', { instanceId: inst.id, publicKey: device.publicKey, deviceName: `bench-${i}` }, token);
  const through = `${manager.url}/i/${inst.id}`;
  const headers = { authorization: `Bearer ${token}` };
  await pairWithTicket(through, ticket, { publicKey: device.publicKey, sign: (p) => signPayload(device.privateKey, p) }, Date.now, headers);
  const conn = connectAsDevice({ url: through, key: device, headers });
  clients.push(conn);
  await conn.client.settings.set.mutate({ key: 'anthropic.apiKey', value: 'sk-ant-bench-0123456789' });
  const session = (await conn.client.sessions.create.mutate({})).id;
  const done = new Promise<void>((resolve, reject) => {
    const sub = conn.client.chat.events.subscribe(
      { sessionId: session },
      {
        onData: ({ data }: { data: ChatEvent }) => {
          if (data.type === 'delta' && data.text.length > 0) {
            resolve();
            sub.unsubscribe();
          }
        },
        onError: reject,
      },
    );
  });
  await conn.client.chat.send.mutate({ sessionId: session, clientId: `bench-awake-${i}`, text: `hello from client ${i}` });
  await done;
}
const awakeStarted = performance.now();
for (let i = 0; i < awake.length; i += BATCH) {
  await Promise.all(awake.slice(i, i + BATCH).map((t, j) => connectAndChat(t, i + j)));
}
console.log(`${awake.length} clients connected and answered in ${Math.round((performance.now() - awakeStarted) / 1000)} s`);
await sleep(10_000);
const gateways = gatewayPids();
const rssOr0 = (pid: number) => {
  try {
    return processRssMb(pid);
  } catch {
    return 0; // ended while we looked
  }
};
const totalMb = rssOr0(manager.child.pid!) + gateways.reduce((sum, pid) => sum + rssOr0(pid), 0);
console.log(`${gateways.length} gateway processes awake; manager + gateways ${round(totalMb, 1)} MiB`);
figures[`scale.${ACCOUNTS === 1000 ? '1000' : ACCOUNTS}_accounts_rss_gb`] = round(totalMb / 1024, 3);

/* ---------- stop everything (gateways outlive the manager by design) ---------- */
await Promise.all(clients.map((c) => c.close()));
await stopManager(manager.child);
for (const pid of gatewayPids()) {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already ended
  }
}
await wire.close();
dir.remove();
writeFigures(figures);
