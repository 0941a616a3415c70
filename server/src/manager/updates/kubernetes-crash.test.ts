/**
 * kill -9 of the manager at every step of a Kubernetes update and restore: a
 * child process runs the real Kubernetes driver, instances and updates parts
 * (bundled from the sources) against the local Kubernetes API server, its
 * test kubelet and the local S3 server of this process, and announces each
 * persisted step through the parts' step seam, where it is SIGKILLed (the
 * pods it started run on, as in a cluster). A new manager on the same
 * database and cluster then settles (updates.recover, then
 * instances.recover, as the server's leader does): the instance runs one
 * version — the old image or the new, never neither — its volume's data is
 * whole (the store dump equals the one before, or the backup's), and no
 * trial StatefulSet, Job or pod is left running beside the live pod.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { crashStepsFor } from '../db/test-db';
import { namesFor } from '../drivers/kubernetes';
import { bundleGatewayCommand, bundleScript, killChildWhen, REPO_ROOT } from '../drivers/local/test-support';
import { startK8sUpdatesHarness } from './k8s-test-harness';
import type { K8sUpdatesHarness } from './k8s-test-harness';
import { K8S_NS } from './k8s-test-manager';
import { BUILT_IN_VERSION, buildTestRelease, dumpGatewayDb, seedMessages, testReleaseKey, userData } from './test-releases';
import type { BuiltRelease } from './test-releases';
import { trialIdOf } from './updater';

const src = (rel: string) => JSON.stringify(fileURLToPath(new URL(rel, import.meta.url)));

/** The child manager: settles like a starting leader, runs one update or restore, and stops (paused for the kill) at one named step. */
const CHILD = `
import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeSync } from 'node:fs';
import { openManagerDb } from ${src('../db/index.ts')};
import { keyPairOf, signPayload } from ${src('../../security/index.ts')};
import { openK8sManager } from ${src('./k8s-test-manager.ts')};

const [dir, kubeconfigPath, s3Url, urlsJson, keysFile, targetJson, releaseKey, action, instanceId, arg, stopAt] = process.argv.slice(2);
const saved = JSON.parse(readFileSync(keysFile, 'utf8'));
const privateKey = createPrivateKey(saved.pem);
const keys = { publicKey: keyPairOf(privateKey).publicKey, sign: (p) => signPayload(privateKey, p), masterKey: Buffer.from(saved.master, 'base64') };
const urls = JSON.parse(urlsJson);
const say = (o) => writeSync(1, JSON.stringify(o) + '\\n');
const stop = (step) => {
  if (step !== stopAt) return;
  say({ at: step });
  return new Promise(() => {});
};
const db = await openManagerDb(JSON.parse(targetJson));
const serviceUrl = (svc) => {
  if (!urls[svc]) throw new Error('no loopback address for service ' + svc);
  return urls[svc];
};
const m = await openK8sManager({ dir, db, keys, kubeconfigPath, serviceUrl, s3Url, releaseKey, afterUpdateStep: stop, afterRestoreStep: stop });
await m.part.recover();
await m.service.recover();
if (action === 'update') await m.part.updater.begin(instanceId, { kind: 'update', version: arg, actor: 'operator' }).finished;
else await m.part.restorer.restore(instanceId, arg, 'operator');
say({ finished: true });
`;

const IMAGE = 'ghcr.io/autoclaw/gateway';
let gateway: Awaited<ReturnType<typeof bundleGatewayCommand>>;
let childScript: string;
let release: BuiltRelease;
let out: string;
const key = testReleaseKey();
const digests: Record<string, string> = {};
const disposers: Array<() => void> = [];
let h: K8sUpdatesHarness | null = null;

beforeAll(async () => {
  gateway = await bundleGatewayCommand();
  disposers.push(gateway.dispose);
  const child = await bundleScript(CHILD, 'k8s-updates-manager-child');
  disposers.push(child.dispose);
  childScript = child.file;
  const cache = join(REPO_ROOT, 'node_modules/.cache/autoclaw-tests');
  mkdirSync(cache, { recursive: true });
  out = mkdtempSync(join(cache, 'k8s-crash-releases-'));
  release = await buildTestRelease(out, { version: '2.0.0', kind: 'good', key: key.privateKey, image: `${IMAGE}:2.0.0` });
  digests[release.sha256] = release.version;
}, 120_000);

afterAll(() => {
  disposers.forEach((d) => d());
  if (out) rmSync(out, { recursive: true, force: true });
});

afterEach(async () => {
  await h?.close();
  h = null;
});

/** The user's data, whatever schema version the build that runs it migrated to. */
const userRows = (dump: string) => userData(dump).replace(/^user_version \d+\n/, '');
const imageTag = (harness: K8sUpdatesHarness, id: string) => String(harness.find('statefulsets', namesFor(id).statefulSet)?.spec.template.spec.containers[0].image).split('@')[0]?.split(':').at(-1);

/** A manager with one running Kubernetes instance holding messages, the release added; closed again (its pod left running) for the child. */
async function setUp(prepare?: (m: K8sUpdatesHarness, id: string) => Promise<Record<string, string>>) {
  h = await startK8sUpdatesHarness({ gateway: gateway.command, releaseKey: key.publicKey, digests, snapshots: true });
  const instance = await h.service.provision('owner@example.com');
  expect(instance).toMatchObject({ state: 'running', driver: 'kubernetes' });
  await seedMessages(h.volumeDb(instance.id), 50, 'before');
  await h.part.releases.add(readFileSync(release.manifestPath, 'utf8'), join(release.manifestPath, '..'));
  const extra = prepare ? await prepare(h, instance.id) : {};
  const before = userRows(await dumpGatewayDb(h.volumeDb(instance.id)));
  const keysFile = join(h.dir, 'test-keys.json');
  writeFileSync(keysFile, JSON.stringify({ pem: h.keys.privateKeyPem, master: h.keys.masterKey.toString('base64') }), { mode: 0o600 });
  await h.stopManager();
  return { h, id: instance.id, before, keysFile, extra };
}

/** Runs the child manager until it announces `stopAt`, then SIGKILLs it. */
async function killAt(m: K8sUpdatesHarness, keysFile: string, args: [action: 'update' | 'restore', instanceId: string, arg: string], stopAt: string): Promise<void> {
  // The child reaches the pods this process's kubelet runs at the loopback ports it gives their Services.
  const urls = Object.fromEntries([args[1], trialIdOf(args[1])].map((id) => [namesFor(id).service, m.kubelet.serviceUrl(namesFor(id).service)]));
  const childArgs = [m.dir, m.kubeconfigPath, m.s3.url, JSON.stringify(urls), keysFile, JSON.stringify(m.database.target), key.publicKey, ...args, stopAt];
  await killChildWhen<{ at?: string }>(childScript, childArgs, (line) => line.at === stopAt, 120_000);
}

/** A restarted manager on the same database and cluster, settled as the leader settles at start. */
async function restart(m: K8sUpdatesHarness) {
  const again = await m.openManager();
  await again.part.recover();
  await again.service.recover();
  return again;
}

type Manager = Awaited<ReturnType<typeof restart>>;

/** Running one version (its image and its answer agree) in one pod, with no trial, Job or other pod beside it. */
async function expectOneRunningVersion(m: K8sUpdatesHarness, again: Manager, id: string): Promise<string> {
  const instance = await again.service.mustGet(id);
  expect(instance.state).toBe('running');
  const url = instance.url as string;
  const version = await again.service.exclusive(id, async (ops) => (await ops.call(url, (c) => c.admin.selfCheck.query())).version);
  expect([BUILT_IN_VERSION, '2.0.0']).toContain(version);
  expect(imageTag(m, id)).toBe(version);
  expect((await again.part.status(id)).version).toBe(version);
  // A deleted StatefulSet's pod stops a moment later (the kubelet reconciles on its own, as in a cluster).
  await expect.poll(() => m.kubelet.running(), { timeout: 15_000 }).toEqual([namesFor(id).pod]);
  expect(m.k8s.store.list('statefulsets', K8S_NS).items.map((s) => s.metadata.name)).toEqual([namesFor(id).statefulSet]);
  expect(m.k8s.store.list('jobs', K8S_NS).items).toEqual([]);
  expect(m.k8s.store.list('volumesnapshots', K8S_NS).items).toEqual([]);
  expect(m.k8s.store.list('persistentvolumeclaims', K8S_NS).items.map((c) => c.metadata.name)).toEqual([namesFor(id).pvc]);
  return version;
}

describe('kill -9 of the manager during a Kubernetes update', () => {
  // trial:running: inside the trial, its pod up on the cloned volume (a VolumeSnapshot's claim) and checked, not yet removed.
  for (const step of crashStepsFor(['backup', 'trial', 'trial:running', 'drain', 'switch', 'health'], ['trial:running', 'health'])) {
    it(`at ${step}: after the restart the instance runs one image on whole data, no trial or Job left`, async () => {
      const persisted = step.split(':')[0];
      const { h: m, id, before, keysFile } = await setUp();
      await killAt(m, keysFile, ['update', id, '2.0.0'], step);
      if (step === 'trial:running') {
        // What the killed manager left behind: the trial's StatefulSet, its pod running, the snapshot and the cloned claim.
        expect(m.kubelet.running()).toEqual(expect.arrayContaining([namesFor(trialIdOf(id)).pod]));
        expect(m.k8s.store.list('volumesnapshots', K8S_NS).items.length).toBe(1);
      }
      const again = await restart(m);
      expect(await expectOneRunningVersion(m, again, id)).toBe(BUILT_IN_VERSION);
      expect(userRows(await dumpGatewayDb(m.volumeDb(id)))).toBe(before);
      const [run] = await again.part.updater.history(id);
      expect(run).toMatchObject({ step: persisted, outcome: 'rolled-back', reason: `interrupted at ${persisted} by a manager restart` });
      // Settled: a new update goes through.
      const next = await again.part.updater.begin(id, { kind: 'update', version: '2.0.0', actor: 'operator' }).finished;
      expect(next.reason ?? '').toBe('');
      expect(next.outcome).toBe('succeeded');
      expect(await expectOneRunningVersion(m, again, id)).toBe('2.0.0');
      expect(userRows(await dumpGatewayDb(m.volumeDb(id)))).toBe(before);
    }, 300_000);
  }
});

/** setUp's preparation for restores: a backup (a Job into S3), the rows it holds, then newer messages in the live instance. */
async function backupThenMore(m: K8sUpdatesHarness, id: string): Promise<Record<string, string>> {
  const backup = await m.part.backups.create(id, 'manual');
  const backupRows = userRows(await dumpGatewayDb(m.volumeDb(id)));
  await seedMessages(m.volumeDb(id), 10, 'after');
  return { backupId: backup.id, backupRows };
}

describe('kill -9 of the manager during a Kubernetes restore', () => {
  for (const step of crashStepsFor(['stage', 'stop', 'swap', 'start', 'done'], ['swap'])) {
    it(`at ${step}: after the restart the instance runs on either the data it had or the backup's, whole`, async () => {
      const { h: m, id, before, keysFile, extra } = await setUp(backupThenMore);
      expect(before).not.toBe(extra['backupRows']);
      await killAt(m, keysFile, ['restore', id, extra['backupId'] as string], step);
      const again = await restart(m);
      expect(await expectOneRunningVersion(m, again, id)).toBe(BUILT_IN_VERSION);
      const now = userRows(await dumpGatewayDb(m.volumeDb(id)));
      // Killed before the volume was touched nothing changed; from the swap on, the restore is finished by the next manager.
      expect(now).toBe(step === 'stage' || step === 'stop' ? before : extra['backupRows']);
      expect(m.find('statefulsets', namesFor(id).statefulSet)?.spec.replicas).toBe(1);
    }, 300_000);
  }
});
