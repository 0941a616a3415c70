/**
 * kill -9 of the manager at every step of an update and of a restore: a
 * child process runs the real instances and updates parts (bundled from the
 * sources) and announces each persisted step through the parts' step seam,
 * where it is SIGKILLed. A new manager on the same directory and database
 * then settles (updates.recover, then instances.recover, as the server's
 * leader does): the instance runs one version — the old or the new, never
 * neither — with exactly one gateway and no trial left, and its data is
 * whole (the store dump equals the one before, or the restored backup's).
 * A restore into a new instance killed anywhere leaves a whole running new
 * instance or none (no row, no files, no process), the source untouched.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crashStepsFor } from '../db/test-db';
import { bundleGatewayCommand, bundleScript, gatewayProcesses, killChildWhen, processesOnData, REPO_ROOT } from '../drivers/local/test-support';
import { BUILT_IN_VERSION, buildTestRelease, dumpGatewayDb, seedMessages, startUpdatesHarness, testReleaseKey, userData } from './test-releases';
import type { BuiltRelease } from './test-releases';

const src = (rel: string) => JSON.stringify(fileURLToPath(new URL(rel, import.meta.url)));

/** The child manager: settles like a starting leader, runs one update or restore, and stops (paused for the kill) at one named step. */
const CHILD = `
import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeSync } from 'node:fs';
import { openManagerDb } from ${src('../db/index.ts')};
import { createLocalDriver } from ${src('../drivers/local/index.ts')};
import { createInstanceService } from ${src('../instances/index.ts')};
import { createUpdatesPart } from ${src('./index.ts')};
import { VERSION } from ${src('../gateway-parts.ts')};
import { keyPairOf, signPayload } from ${src('../../security/index.ts')};

const [dataDir, keysFile, commandJson, targetJson, releaseKey, action, instanceId, arg, stopAt] = process.argv.slice(2);
const saved = JSON.parse(readFileSync(keysFile, 'utf8'));
const privateKey = createPrivateKey(saved.pem);
const keys = { publicKey: keyPairOf(privateKey).publicKey, sign: (p) => signPayload(privateKey, p), masterKey: Buffer.from(saved.master, 'base64') };
const say = (o) => writeSync(1, JSON.stringify(o) + '\\n');
const db = await openManagerDb(JSON.parse(targetJson));
let part = null;
const driver = createLocalDriver({ dataDir, command: JSON.parse(commandJson), startTimeoutMs: 20000 });
const service = await createInstanceService({ db, driver, keys, readyTimeoutMs: 20000, versionOf: async (id) => (part ? part.versions.versionOf(id) : null) });
const stop = (step) => {
  if (step !== stopAt) return;
  say({ at: step });
  return new Promise(() => {});
};
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
part = await createUpdatesPart({
  dataDir, db, instances: service, masterKey: keys.masterKey, now: Date.now, logger: quiet, builtInVersion: VERSION, releaseKeys: [releaseKey],
  timings: { healthWindowMs: 1500, healthPollMs: 100, drainTimeoutMs: 2000 },
  afterUpdateStep: stop, afterRestoreStep: stop, afterRestoreIntoStep: stop,
});
await part.recover();
await service.recover();
if (action === 'update') await part.updater.begin(instanceId, { kind: 'update', version: arg, actor: 'operator' }).finished;
else if (action === 'into-new') await part.restoreIntoNew.restore(instanceId, arg, 'operator');
else await part.restorer.restore(instanceId, arg, 'operator');
say({ finished: true });
`;

let command: string[];
let childScript: string;
let release: BuiltRelease;
let out: string;
const key = testReleaseKey();
const disposers: Array<() => void> = [];

beforeAll(async () => {
  const gateway = await bundleGatewayCommand();
  disposers.push(gateway.dispose);
  command = gateway.command;
  const child = await bundleScript(CHILD, 'updates-manager-child');
  disposers.push(child.dispose);
  childScript = child.file;
  const cache = join(REPO_ROOT, 'node_modules/.cache/autoclaw-tests');
  mkdirSync(cache, { recursive: true });
  out = mkdtempSync(join(cache, 'crash-releases-'));
  release = await buildTestRelease(out, { version: '2.0.0', kind: 'good', key: key.privateKey });
}, 120_000);

afterAll(() => {
  disposers.forEach((d) => d());
  if (out) rmSync(out, { recursive: true, force: true });
});

type H = Awaited<ReturnType<typeof startUpdatesHarness>>;

/** Runs the child manager until it announces `stopAt`, then SIGKILLs it. */
async function killAt(h: H, keysFile: string, args: [action: 'update' | 'restore' | 'into-new', instanceId: string, arg: string], stopAt: string): Promise<void> {
  const childArgs = [h.dir, keysFile, JSON.stringify(command), JSON.stringify(h.database.target), key.publicKey, ...args, stopAt];
  await killChildWhen<{ at?: string }>(childScript, childArgs, (line) => line.at === stopAt, 60_000);
}


/** The user's data, whatever schema version the build that runs it migrated to. */
const userRows = (dump: string) => userData(dump).replace(/^user_version \d+\n/, '');

const dbPathOf = (h: H, id: string) => join(h.dir, 'instances', id, 'gateway.db');

async function runningVersion(h: H, id: string): Promise<string> {
  const url = (await h.service.mustGet(id)).url as string;
  return h.service.exclusive(id, async (ops) => (await ops.call(url, (c) => c.admin.selfCheck.query())).version);
}

/** A manager with one running instance holding messages, the release added; closed again (its gateways left running) for the child. */
async function setUp(prepare?: (h: H, id: string) => Promise<Record<string, string>>) {
  const h = await startUpdatesHarness(command, { releaseKey: key.publicKey });
  const instance = await h.service.provision('owner@example.com');
  await seedMessages(dbPathOf(h, instance.id), 200, 'before');
  await h.part.releases.add(readFileSync(release.manifestPath, 'utf8'), join(release.manifestPath, '..'));
  const extra = prepare ? await prepare(h, instance.id) : {};
  const before = userRows(await dumpGatewayDb(dbPathOf(h, instance.id)));
  const keysFile = join(h.dir, 'test-keys.json');
  writeFileSync(keysFile, JSON.stringify({ pem: h.keys.privateKeyPem, master: h.keys.masterKey.toString('base64') }), { mode: 0o600 });
  await h.service.close();
  await h.db.close();
  return { h, id: instance.id, before, keysFile, extra };
}

/** A restarted manager on the same directory and database, settled as the leader settles at start. */
async function restart(h: H): Promise<H> {
  const again = await startUpdatesHarness(command, { releaseKey: key.publicKey, dir: h.dir, database: h.database, keys: h.keys });
  await again.part.recover();
  await again.service.recover();
  return again;
}

async function expectOneRunningVersion(h: H, id: string): Promise<string> {
  const instance = await h.service.mustGet(id);
  expect(instance.state).toBe('running');
  // One gateway on its data, however it was started (spawned for it, or a warm standby assigned to it).
  expect(processesOnData(join(h.dir, 'instances', id))).toEqual([instance.pid]);
  expect(gatewayProcesses(`${id}-trial`)).toEqual([]);
  const version = await runningVersion(h, id);
  expect([BUILT_IN_VERSION, '2.0.0']).toContain(version);
  expect((await h.part.status(id)).version).toBe(version);
  return version;
}

describe('kill -9 of the manager during an update', () => {
  // switch:stopped: inside the switch, the old gateway stopped and the new one (a warmed standby) not yet started.
  for (const step of crashStepsFor(['backup', 'trial', 'drain', 'switch', 'switch:stopped', 'health'], ['switch:stopped', 'health'])) {
    it(`at ${step}: after the restart the instance runs one whole version on whole data`, async () => {
      const persisted = step.split(':')[0];
      const { h, id, before, keysFile } = await setUp();
      await killAt(h, keysFile, ['update', id, '2.0.0'], step);
      const again = await restart(h);
      try {
        await expectOneRunningVersion(again, id);
        expect(userRows(await dumpGatewayDb(dbPathOf(again, id)))).toBe(before);
        const [run] = await again.part.updater.history(id);
        expect(run).toMatchObject({ step: persisted, outcome: 'rolled-back', reason: `interrupted at ${persisted} by a manager restart` });
        // Settled: a new update goes through.
        const next = await again.part.updater.begin(id, { kind: 'update', version: '2.0.0', actor: 'operator' }).finished;
        expect(next.reason ?? '').toBe('');
        expect(next.outcome).toBe('succeeded');
        await expectOneRunningVersion(again, id);
        expect(userRows(await dumpGatewayDb(dbPathOf(again, id)))).toBe(before);
      } finally {
        await again.close();
        await h.database.drop();
      }
    }, 240_000);
  }
});

describe('kill -9 of the manager during a restore', () => {
  for (const step of crashStepsFor(['stage', 'stop', 'swap', 'start', 'done'], ['swap'])) {
    it(`at ${step}: after the restart the instance runs on either the data it had or the backup's, whole`, async () => {
      const { h, id, before, keysFile, extra } = await setUp(backupThenMore);
      expect(before).not.toBe(extra['backupRows']);
      await killAt(h, keysFile, ['restore', id, extra['backupId'] as string], step);
      const again = await restart(h);
      try {
        await expectOneRunningVersion(again, id);
        const now = userRows(await dumpGatewayDb(dbPathOf(again, id)));
        // Killed before staging finished nothing changed; once staged, the restore is finished.
        expect(now).toBe(step === 'stage' ? before : extra['backupRows']);
      } finally {
        await again.close();
        await h.database.drop();
      }
    }, 240_000);
  }
});

/** setUp's preparation for restores: a backup, its rows, then newer messages in the live instance. */
async function backupThenMore(m: H, instanceId: string): Promise<Record<string, string>> {
  const backup = await m.part.backups.create(instanceId, 'manual');
  const files = await m.part.backups.read(instanceId, backup.id);
  const check = mkdtempSync(join(m.dir, 'check-'));
  writeFileSync(join(check, 'gateway.db'), files.find((f) => f.path === 'gateway.db')?.data ?? Buffer.alloc(0));
  const backupRows = userRows(await dumpGatewayDb(join(check, 'gateway.db')));
  await seedMessages(dbPathOf(m, instanceId), 50, 'after');
  return { backupId: backup.id, backupRows };
}

describe('kill -9 of the manager during a restore into a new instance', () => {
  for (const step of crashStepsFor(['provision', 'restore', 'start', 'done'], ['restore'])) {
    it(`at ${step}: after the restart there is a whole running new instance or none, and the source runs untouched`, async () => {
      const { h, id, keysFile, extra } = await setUp(backupThenMore);
      const sourceBefore = userRows(await dumpGatewayDb(dbPathOf(h, id)));
      await killAt(h, keysFile, ['into-new', id, extra['backupId'] as string], step);
      const again = await restart(h);
      try {
        await expectOneRunningVersion(again, id);
        expect(userRows(await dumpGatewayDb(dbPathOf(again, id)))).toBe(sourceBefore);
        const [run] = await again.db.k.selectFrom('restore_into_runs').selectAll().execute();
        const newId = run?.instance_id as string;
        const others = (await again.service.list()).filter((i) => i.id !== id);
        if (step === 'provision' || step === 'restore') {
          // Its data was not whole yet: removed, files, process and all.
          expect(run).toMatchObject({ step: 'failed', reason: expect.stringContaining('manager restart') });
          expect(others).toEqual([]);
          expect(existsSync(join(again.dir, 'instances', newId))).toBe(false);
          expect(gatewayProcesses(newId)).toEqual([]);
        } else {
          expect(run).toMatchObject({ step: 'done' });
          expect(others.map((i) => [i.id, i.state, i.primary])).toEqual([[newId, 'running', false]]);
          // One gateway on its data (a warm standby taken for it does not name it on its command line).
          expect(processesOnData(join(again.dir, 'instances', newId))).toEqual([others[0]?.pid]);
          expect(userRows(await dumpGatewayDb(dbPathOf(again, newId)))).toBe(extra['backupRows']);
        }
      } finally {
        await again.close();
        await h.database.drop();
      }
    }, 240_000);
  }
});

