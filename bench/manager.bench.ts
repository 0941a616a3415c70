// Manager figures with the local driver: real manager and gateway processes
// from node_modules/.bin, driven over the manager's tRPC HTTP API and CLI.
import { spawn, spawnSync } from 'node:child_process';
import { AUTOCLAW, managerCall, median, processRssMb, round, tempDir, treeRssMb, writeFigures } from './support';

interface InstanceView {
  id: string;
  owner: string;
  state: string;
  pid?: number;
  port?: number;
  createdAt: number;
  updatedAt: number;
}

const figures: Record<string, number> = {};
const PASSWORD = 'correct horse battery staple';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = tempDir('autoclaw-bench-mgr-');

const manager = spawn(AUTOCLAW, ['manager', '--data', dir.path, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  manager.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    const m = /^(http:\/\/127\.0\.0\.1:\d+)\s*$/m.exec(out);
    if (m) resolve(m[1]!);
  });
  manager.once('exit', (code) => reject(new Error(`manager exited ${code}`)));
});

const call = <T>(method: 'GET' | 'POST', path: string, input?: unknown, token?: string): Promise<T> => managerCall<T>(url, method, path, input, token);

function createUser(email: string): void {
  const res = spawnSync(AUTOCLAW, ['users', 'create', '--data', dir.path, '--email', email], { input: `${PASSWORD}\n`, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`users create: ${res.stderr}`);
}

async function waitRunning(token: string, notPid?: number): Promise<InstanceView> {
  for (;;) {
    const inst = await call<InstanceView | null>('GET', 'instances.mine', undefined, token);
    if (inst && inst.state === 'running' && (notPid === undefined || inst.pid !== notPid)) return inst;
    if (inst?.state === 'failed') throw new Error('instance failed');
    await sleep(10);
  }
}

/* provision → running (the account's instance is provisioned at creation) */
const provision: number[] = [];
const tokens: string[] = [];
for (let i = 0; i < 5; i += 1) {
  const email = `user${i}@example.com`;
  createUser(email);
  const { token } = await call<{ token: string }>('POST', 'auth.signIn', { email, password: PASSWORD });
  tokens.push(token);
  const inst = await waitRunning(token);
  // Server-side times: the row is made at provisioning, updated when it turns running.
  provision.push(inst.updatedAt - inst.createdAt);
}
figures['manager.provision_to_running_ms'] = round(median(provision), 1);

/* sign-in latency: bench/manager-replicas.bench.ts, on SQLite and PostgreSQL side by side */

/* kill -9 a gateway → the supervisor has it running again */
const restarts: number[] = [];
for (let i = 0; i < 3; i += 1) {
  const before = await waitRunning(tokens[0]!);
  const t0 = performance.now();
  process.kill(before.pid!, 'SIGKILL');
  const after = await waitRunning(tokens[0]!, before.pid);
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${after.port}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    await sleep(10);
  }
  restarts.push(performance.now() - t0);
  await sleep(500);
}
figures['supervisor.detect_and_restart_ms'] = round(median(restarts), 1);

/* 50 idle instances */
for (let i = 5; i < 50; i += 1) createUser(`user${i}@example.com`);
let list: InstanceView[] = [];
for (;;) {
  const res = spawnSync(AUTOCLAW, ['instances', 'list', '--data', dir.path, '--json'], { encoding: 'utf8' });
  list = JSON.parse(res.stdout) as InstanceView[];
  if (list.length === 50 && list.every((i) => i.state === 'running')) break;
  await sleep(500);
}
await sleep(10_000);
const total = list.reduce((sum, i) => sum + treeRssMb(i.pid!), 0);
figures['manager.instances_50_rss_mb'] = round(total, 1);
// The manager process alone (its gateways are its children, counted above).
figures['manager.rss_mb'] = round(processRssMb(manager.pid!), 1);

/* stop everything (gateways outlive the manager by design) */
await new Promise<void>((resolve) => {
  manager.once('exit', () => resolve());
  manager.kill('SIGTERM');
});
for (const inst of list) {
  try {
    process.kill(inst.pid!, 'SIGKILL');
  } catch {
    // already stopped
  }
}
dir.remove();
writeFigures(figures);
