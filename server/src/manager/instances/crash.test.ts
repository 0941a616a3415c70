/**
 * kill -9 of the manager: a child process runs the real instance service
 * (bundled from the sources) and is SIGKILLed while it provisions, starts or
 * stops instances, with others running. A new manager on the same directory
 * then recovers: every instance is in a legal, settled state, running
 * gateways are re-adopted (same pid), an interrupted provisioning resumed or
 * failed with a reason — never stuck.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance, InstanceState } from '@autoclaw/shared';
import { isProcessAlive } from '../drivers/local/process-info';
import { createTestDatabase, testEngine } from '../db/test-db';
import type { TestDatabase } from '../db/test-db';
import { bundleGatewayCommand, bundleScript, gatewayProcesses, killChildWhen, killGateways, processesOnData, startHarness, testManagerKeys } from '../drivers/local/test-support';

const src = (rel: string) => JSON.stringify(fileURLToPath(new URL(rel, import.meta.url)));

/** The child manager: runs the actions in argv, printing every instance's state every 5 ms. */
const CHILD = `
import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { openManagerDb } from ${src('../db/index.ts')};
import { createLocalDriver } from ${src('../drivers/local/index.ts')};
import { createInstanceService } from ${src('./index.ts')};
import { keyPairOf, signPayload } from ${src('../../security/index.ts')};

const [dataDir, keysFile, commandJson, targetJson, ...actions] = process.argv.slice(2);
const saved = JSON.parse(readFileSync(keysFile, 'utf8'));
const privateKey = createPrivateKey(saved.pem);
const keys = { publicKey: keyPairOf(privateKey).publicKey, sign: (p) => signPayload(privateKey, p), masterKey: Buffer.from(saved.master, 'base64') };
const db = await openManagerDb(JSON.parse(targetJson));
const driver = createLocalDriver({ dataDir, command: JSON.parse(commandJson) });
const service = await createInstanceService({ db, driver, keys });
const say = (o) => writeSync(1, JSON.stringify(o) + '\\n');
let busy = false;
setInterval(() => {
  if (busy) return;
  busy = true;
  service.list().then((instances) => say({ instances })).finally(() => (busy = false));
}, 5);
for (const action of actions) {
  const [verb, arg] = action.split(':');
  if (verb === 'provision') await service.provision(arg);
  if (verb === 'stop') await service.stop((await service.byOwner(arg)).id);
  if (verb === 'sleep') await service.sleep((await service.byOwner(arg)).id, 'idle (test)', { stillIdle: async () => true });
  if (verb === 'wake') await service.wake((await service.byOwner(arg)).id, 'a client (test)');
  say({ done: action, instances: await service.list() });
}
say({ idle: true });
`;

type Snapshot = { instances: Instance[]; done?: string };

let command: string[];
let childScript: string;
const disposers: Array<() => void> = [];
beforeAll(async () => {
  const gateway = await bundleGatewayCommand();
  disposers.push(gateway.dispose);
  command = gateway.command;
  const child = await bundleScript(CHILD, 'manager-child');
  disposers.push(child.dispose);
  childScript = child.file;
});
afterAll(() => disposers.forEach((d) => d()));

/** Runs the child manager until `killWhen` sees a snapshot it likes, then SIGKILLs it; returns that snapshot. */
function runUntil(dir: string, keysFile: string, actions: string[], killWhen: (s: Snapshot) => boolean, gateway: string[] = command): Promise<Snapshot> {
  return killChildWhen<Snapshot>(childScript, [dir, keysFile, JSON.stringify(gateway), JSON.stringify(database.target), ...actions], (snap) => snap.instances !== undefined && killWhen(snap));
}

/**
 * The gateway command, 0.5 s slower to start. The driver's start returns once
 * the gateway's runtime file appears (it is ready then), so the instance is
 * `provisioning` — its process spawned, no pid in the database yet — until
 * then, and `starting` only for a moment after: the kill point is "its
 * process exists", and the pause keeps that window open.
 */
const slowStart = (): string[] => ['sh', '-c', 'sleep 0.5; exec "$@"', 'sh', ...command];
const spawnedFor = (i: Instance | undefined): boolean =>
  !!i && (i.state === 'starting' || (i.state === 'provisioning' && gatewayProcesses(i.id).length > 0));


const SETTLED: ReadonlySet<InstanceState> = new Set(['running', 'stopped', 'failed', 'sleeping']);
const byOwner = (s: Snapshot, owner: string) => s.instances.find((i) => i.owner === owner);

let database: TestDatabase;

describe(`kill -9 of the manager (${testEngine()})`, () => {
  let dir: string;
  let keysFile: string;
  const keys = testManagerKeys();
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-mgr-crash-'));
    database = await createTestDatabase(dir);
    keysFile = join(dir, 'test-keys.json');
    writeFileSync(keysFile, JSON.stringify({ pem: keys.privateKeyPem, master: keys.masterKey.toString('base64') }), { mode: 0o600 });
  });
  afterAll(async () => {
    killGateways(dir);
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function recoverAndCheck(command2: string[] = command): Promise<{ instances: Instance[]; report: Awaited<ReturnType<Awaited<ReturnType<typeof startHarness>>['service']['recover']>> }> {
    const h = await startHarness(command2, { dir, keys, database });
    try {
      const report = await h.service.recover();
      const instances = await h.service.list();
      for (const i of instances) {
        expect([i.owner, SETTLED.has(i.state)]).toEqual([i.owner, true]);
        if (i.state === 'running') expect(i.pid !== undefined && isProcessAlive(i.pid)).toBe(true);
        // Exactly one gateway for a running instance, none for the others.
        expect([i.owner, processesOnData(join(h.dir, 'instances', i.id))]).toEqual([i.owner, i.state === 'running' ? [i.pid] : []]);
        if (i.state === 'failed') expect(i.lastError?.length).toBeGreaterThan(0);
      }
      await h.service.close();
      return { instances, report };
    } finally {
      // The harness owns the directory for the whole describe: close only the database here.
      await h.db.close();
    }
  }

  it('while provisioning (the row made, the gateway not yet ready): resumed', async () => {
    const hit = await runUntil(dir, keysFile, ['provision:a@example.com'], (s) => byOwner(s, 'a@example.com')?.state === 'provisioning');
    expect(byOwner(hit, 'a@example.com')?.state).toBe('provisioning');
    const { instances, report } = await recoverAndCheck();
    const a = instances.find((i) => i.owner === 'a@example.com');
    expect(a?.state).toBe('running');
    expect(report.resumed).toEqual([a?.id]);
  });

  it('while starting a second instance with the first running: the first re-adopted with the same pid', async () => {
    const hit = await runUntil(dir, keysFile, ['provision:b@example.com'], (s) => spawnedFor(byOwner(s, 'b@example.com')), slowStart());
    const a = byOwner(hit, 'a@example.com');
    expect(a?.state).toBe('running');
    const { instances, report } = await recoverAndCheck();
    const a2 = instances.find((i) => i.owner === 'a@example.com');
    const b2 = instances.find((i) => i.owner === 'b@example.com');
    expect(a2).toMatchObject({ state: 'running', pid: a?.pid, port: a?.port });
    expect(report.adopted).toContain(a?.id);
    expect(b2?.state).toBe('running');
    expect(report.resumed).toContain(b2?.id);
  });

  it('while stopping, with others running: the stop is finished, the others adopted', async () => {
    const before = await recoverAndCheck();
    const running = before.instances.filter((i) => i.state === 'running');
    const hit = await runUntil(dir, keysFile, ['stop:a@example.com'], (s) => byOwner(s, 'a@example.com')?.state === 'stopping');
    expect(byOwner(hit, 'a@example.com')?.state).toBe('stopping');
    const { instances, report } = await recoverAndCheck();
    expect(instances.find((i) => i.owner === 'a@example.com')?.state).toBe('stopped');
    const b = running.find((i) => i.owner === 'b@example.com');
    expect(instances.find((i) => i.owner === 'b@example.com')).toMatchObject({ state: 'running', pid: b?.pid });
    expect(report.stopped).toHaveLength(1);
  });

  it('during provisioning right after the gateway was spawned: resumed without a second gateway', async () => {
    const hit = await runUntil(dir, keysFile, ['provision:c@example.com'], (s) => {
      return spawnedFor(byOwner(s, 'c@example.com'));
    }, slowStart());
    expect(['provisioning', 'starting']).toContain(byOwner(hit, 'c@example.com')?.state);
    const { instances } = await recoverAndCheck();
    const c = instances.find((i) => i.owner === 'c@example.com');
    expect(c?.state).toBe('running');
  });

  it('while waking a sleeping instance: no instance left waking, its gateway adopted or replaced, never started twice', async () => {
    let slept = false;
    // Killed as soon as the wake shows (state starting, its gateway spawned or about to be): waiting for the
    // pid too left a window a 5 ms poll could miss on a busy machine.
    const hit = await runUntil(dir, keysFile, ['provision:e@example.com', 'sleep:e@example.com', 'wake:e@example.com'], (s) => {
      const e = byOwner(s, 'e@example.com');
      if (e?.state === 'sleeping') slept = true;
      return slept && e?.state === 'starting';
    });
    const spawned = byOwner(hit, 'e@example.com');
    expect(spawned?.state).toBe('starting');
    const { instances, report } = await recoverAndCheck();
    const e = instances.find((i) => i.owner === 'e@example.com');
    // Adopted when it answered by then, else replaced: recoverAndCheck saw exactly one gateway process.
    expect(e?.state).toBe('running');
    expect(report.resumed).toContain(e?.id);
  });

  it('while putting an instance to sleep (asleep in the database, its process not yet ended): the stray process is stopped', async () => {
    const hit = await runUntil(dir, keysFile, ['sleep:e@example.com'], (s) => byOwner(s, 'e@example.com')?.state === 'sleeping');
    expect(byOwner(hit, 'e@example.com')?.state).toBe('sleeping');
    const { instances } = await recoverAndCheck();
    // recoverAndCheck: a sleeping instance has no gateway process left.
    expect(instances.find((i) => i.owner === 'e@example.com')?.state).toBe('sleeping');
  });

  it('while provisioning, when the gateway cannot start any more: marked failed with the reason', async () => {
    await runUntil(dir, keysFile, ['provision:d@example.com'], (s) => byOwner(s, 'd@example.com')?.state === 'provisioning');
    const { instances } = await recoverAndCheck([process.execPath, '-e', 'console.error("gateway binary is broken"); process.exit(3)']);
    const d = instances.find((i) => i.owner === 'd@example.com');
    if (d?.state !== 'failed') {
      // The killed manager's gateway may have come up before the kill: then it was adopted, which is legal too.
      expect(d?.state).toBe('running');
      return;
    }
    expect(d.lastError).toMatch(/provisioning: the gateway exited during start-up \(code 3\)/);
    expect(d.lastError).toContain('gateway binary is broken');
  });
});
