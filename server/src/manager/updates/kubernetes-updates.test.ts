/**
 * Updates, backups and restores of Kubernetes instances through the updates
 * part, on the Kubernetes driver against the local API server (a test
 * kubelet runs the pods and Jobs as real processes on directories standing
 * for volumes; backups go to the local S3 server):
 * * a good release: a backup Job first, the trial pod on a VolumeSnapshot
 *   clone, then a rolling image change of the StatefulSet; the data kept;
 * * a release that fails readiness on a cluster without snapshots: the
 *   trial runs on a copy Job's clone and fails; the live StatefulSet is never
 *   changed;
 * * a release that crashes after the switch: the image is rolled back and a
 *   restore Job puts the pre-update data back;
 * * a manager that never comes back from the step after the switch: the
 *   next one (same database and cluster) rolls the update back;
 * * a backup → more messages → restore: scaled to 0, a restore Job, scaled
 *   to 1, the newer messages gone; a backup with a flipped byte is refused;
 * * a restore into a new instance: a restore Job fills a new volume from S3
 *   and re-seals the secrets under the new instance's own key (its own
 *   Secret), its StatefulSet adopts the volume; the source runs on untouched.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSettings, createVault } from '../../security';
import { openStore, SCHEMA_VERSION } from '../../store';
import { namesFor } from '../drivers/kubernetes';
import { unwrapDataKey } from '../keys';
import { bundleGatewayCommand, REPO_ROOT, waitFor } from '../drivers/local/test-support';
import { startK8sUpdatesHarness } from './k8s-test-harness';
import type { K8sUpdatesHarness } from './k8s-test-harness';
import { BUILT_IN_VERSION, buildTestRelease, dumpGatewayDb, seedMessages, testReleaseKey } from './test-releases';
import type { BuiltRelease } from './test-releases';

let gateway: Awaited<ReturnType<typeof bundleGatewayCommand>>;
let out: string;
const key = testReleaseKey();
const releases: Record<string, BuiltRelease> = {};
/** Artifact SHA-256 → version: the test kubelet runs a pinned image by its digest. */
const digests: Record<string, string> = {};
const IMAGE = 'ghcr.io/autoclaw/gateway';
let h: K8sUpdatesHarness | null = null;

beforeAll(async () => {
  gateway = await bundleGatewayCommand();
  const cache = join(REPO_ROOT, 'node_modules/.cache/autoclaw-tests');
  mkdirSync(cache, { recursive: true });
  out = mkdtempSync(join(cache, 'k8s-releases-'));
  const made = await Promise.all([
    buildTestRelease(out, { version: '2.0.0', kind: 'good', key: key.privateKey, image: `${IMAGE}:2.0.0` }),
    buildTestRelease(out, { version: '2.1.0', kind: 'not-ready', key: key.privateKey, image: `${IMAGE}:2.1.0` }),
    buildTestRelease(out, { version: '2.3.0', kind: 'crash-after-switch', key: key.privateKey, image: `${IMAGE}:2.3.0` }),
    buildTestRelease(out, { version: '2.4.0', kind: 'good', key: key.privateKey }),
  ]);
  for (const r of made) {
    releases[r.version] = r;
    digests[r.sha256] = r.version;
  }
}, 120_000);

afterAll(() => {
  gateway?.dispose();
  if (out) rmSync(out, { recursive: true, force: true });
});

afterEach(async () => {
  await h?.close();
  h = null;
});

const add = (harness: K8sUpdatesHarness, version: string) => harness.part.releases.add(readFileSync(releases[version]!.manifestPath, 'utf8'), join(releases[version]!.manifestPath, '..'));

async function runningInstance(harness: K8sUpdatesHarness) {
  const instance = await harness.service.provision('owner@example.com');
  expect(instance).toMatchObject({ state: 'running', driver: 'kubernetes' });
  await seedMessages(harness.volumeDb(instance.id), 50, 'before');
  return instance;
}

async function runningVersion(harness: K8sUpdatesHarness, id: string): Promise<string> {
  const url = (await harness.service.mustGet(id)).url as string;
  return harness.service.exclusive(id, async (ops) => (await ops.call(url, (c) => c.admin.selfCheck.query())).version);
}

const imageOf = (harness: K8sUpdatesHarness, id: string) => String(harness.find('statefulsets', namesFor(id).statefulSet)?.spec.template.spec.containers[0].image);
const imageTag = (harness: K8sUpdatesHarness, id: string) => imageOf(harness, id).split('@')[0]?.split(':').at(-1);
const posts = (harness: K8sUpdatesHarness, resource: string) => harness.k8s.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/${resource}`));
const leftovers = (harness: K8sUpdatesHarness) => ({
  jobs: harness.k8s.store.list('jobs', 'claws').items.length,
  snapshots: harness.k8s.store.list('volumesnapshots', 'claws').items.length,
  storeSecrets: harness.k8s.store.list('secrets', 'claws').items.filter((s) => s.metadata.name.endsWith('-store')).length,
  trial: harness.k8s.store.list('statefulsets', 'claws').items.filter((s) => s.metadata.name.endsWith('-trial')).length,
  claims: harness.k8s.store.list('persistentvolumeclaims', 'claws').items.length,
});

describe('updates on Kubernetes', () => {
  it('a good release: backup Job, trial pod on a VolumeSnapshot clone, rolling image change; the data kept, nothing left behind', async () => {
    h = await startK8sUpdatesHarness({ gateway: gateway.command, releaseKey: key.publicKey, digests, snapshots: true });
    const instance = await runningInstance(h);
    await add(h, '2.0.0');
    const sts = namesFor(instance.id).statefulSet;
    const before = h.find('statefulsets', sts);

    const run = await h.part.updater.begin(instance.id, { kind: 'update', version: '2.0.0', actor: 'operator' }).finished;
    expect(run).toMatchObject({ outcome: 'succeeded', step: 'done', fromVersion: BUILT_IN_VERSION, toVersion: '2.0.0' });
    expect((await h.service.mustGet(instance.id)).state).toBe('running');
    expect(imageTag(h, instance.id)).toBe('2.0.0');
    // The release runs as its image pinned by the signed artifact SHA-256 (the trial pod and the StatefulSet alike).
    const pinned = `${IMAGE}:2.0.0@sha256:${releases['2.0.0']!.sha256}`;
    expect(imageOf(h, instance.id)).toBe(pinned);
    const trialSts = h.k8s.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/statefulsets') && r.body?.metadata.name.endsWith('-trial'));
    expect(trialSts.map((r) => (r.body as unknown as { spec: { template: { spec: { containers: Array<{ image: string }> } } } }).spec.template.spec.containers[0]?.image)).toEqual([pinned]);
    const after = h.find('statefulsets', sts);
    expect(after?.status).toMatchObject({ readyReplicas: 1, updatedReplicas: 1 });
    expect(after?.status.currentRevision).toBe(after?.status.updateRevision);
    expect(after?.status.updateRevision).not.toBe(before?.status.updateRevision);
    expect(await runningVersion(h, instance.id)).toBe('2.0.0');
    expect((await h.part.versions.ensure(instance.id)).previous_version).toBe(BUILT_IN_VERSION);

    // The pre-update backup was written by a Job into S3 and opens with the instance's key.
    const [backup] = await h.part.backups.list(instance.id);
    expect(backup).toMatchObject({ kind: 'pre-update' });
    expect(h.s3.objects.has(`${instance.id}/${backup!.id}.acbk`)).toBe(true);
    expect(await h.part.backups.verify(instance.id, backup!.id)).toMatchObject({ ok: true });
    expect(posts(h, 'jobs').length).toBe(1);
    expect(posts(h, 'volumesnapshots').length).toBe(1);
    const notes = (await h.service.events(instance.id)).map((e) => e.message);
    expect(notes).toContain('trial volume: cloned by a volume snapshot');
    expect(notes.some((m) => m.startsWith('switch: rolling image change'))).toBe(true);

    // The data went along: the seeded messages and the new release's migration.
    const dump = await dumpGatewayDb(h.volumeDb(instance.id));
    expect(dump).toContain('before number 49');
    expect(dump).toContain(`user_version ${SCHEMA_VERSION + 1}\n`);
    expect(leftovers(h)).toEqual({ jobs: 0, snapshots: 0, storeSecrets: 0, trial: 0, claims: 1 });
  }, 300_000);

  it('a release failing readiness (no snapshot API: a copy Job clones the volume): rolled back, the live StatefulSet never changed', async () => {
    // The instance's start gets the loaded machine's 60 s; the trial of a release that never gets ready fails after its own 8 s.
    h = await startK8sUpdatesHarness({ gateway: gateway.command, releaseKey: key.publicKey, digests, snapshots: false, readyTimeoutMs: 60_000, timings: { trialReadyMs: 8_000 } });
    const instance = await runningInstance(h);
    await add(h, '2.1.0');
    const sts = namesFor(instance.id).statefulSet;
    const before = h.find('statefulsets', sts);

    const run = await h.part.updater.begin(instance.id, { kind: 'update', version: '2.1.0', actor: 'operator' }).finished;
    expect(run.outcome).toBe('rolled-back');
    expect(run.reason).toMatch(/^trial failed: .*not ready within 8000 ms/);
    const live = h.find('statefulsets', sts);
    expect(live?.metadata.generation).toBe(before?.metadata.generation);
    expect(live?.spec.template).toEqual(before?.spec.template);
    expect(imageTag(h, instance.id)).toBe(BUILT_IN_VERSION);
    expect(h.kubelet.starts.get(namesFor(instance.id).pod)).toBe(1);
    expect((await h.service.mustGet(instance.id)).state).toBe('running');
    expect(await runningVersion(h, instance.id)).toBe(BUILT_IN_VERSION);
    // The clone was a copy Job (the API server does not serve snapshot.storage.k8s.io), then the trial was removed.
    const jobs = posts(h, 'jobs');
    expect(jobs.length).toBe(2);
    expect(posts(h, 'volumesnapshots')).toEqual([]);
    expect((await h.service.events(instance.id)).map((e) => e.message)).toContain('trial volume: cloned by a copy job');
    expect(leftovers(h)).toEqual({ jobs: 0, snapshots: 0, storeSecrets: 0, trial: 0, claims: 1 });
    const events = await h.service.events(instance.id);
    expect(events.at(-1)).toMatchObject({ from: 'updating', to: 'running' });
    expect(events.at(-1)?.message).toMatch(/^running \(rolled back\) on /);
  }, 300_000);

  it('a release that crashes after the switch: the image rolled back and a restore Job puts the pre-update data back', async () => {
    h = await startK8sUpdatesHarness({ gateway: gateway.command, releaseKey: key.publicKey, digests, snapshots: true, crashAfterMs: 5_000, timings: { healthWindowMs: 20_000 } });
    const instance = await runningInstance(h);
    await add(h, '2.3.0');

    const run = await h.part.updater.begin(instance.id, { kind: 'update', version: '2.3.0', actor: 'operator' }).finished;
    expect(run.outcome).toBe('rolled-back');
    expect(run.reason).toMatch(/^health failed: /);
    expect(imageTag(h, instance.id)).toBe(BUILT_IN_VERSION);
    expect((await h.service.mustGet(instance.id)).state).toBe('running');
    expect(await runningVersion(h, instance.id)).toBe(BUILT_IN_VERSION);
    // Backup Job, then the restore Job; the new release's migration is gone from the volume, the messages are there.
    expect(posts(h, 'jobs').length).toBe(2);
    const dump = await dumpGatewayDb(h.volumeDb(instance.id));
    expect(dump).toContain(`user_version ${SCHEMA_VERSION}\n`);
    expect(dump).toContain('before number 49');
    expect(leftovers(h)).toMatchObject({ jobs: 0, storeSecrets: 0, trial: 0 });
  }, 300_000);
});

describe('a manager gone in the middle of a Kubernetes update', () => {
  it('stopped for good after the rolling image change (step health): the next manager rolls back — old image, restore Job, pre-update data, running', async () => {
    let reached: (run: unknown) => void = () => {};
    const atHealth = new Promise((resolve) => {
      reached = resolve;
    });
    // The first manager never gets past the step (as if it was killed there); a second one opens the same database and cluster.
    h = await startK8sUpdatesHarness({
      gateway: gateway.command,
      releaseKey: key.publicKey, digests,
      snapshots: true,
      afterUpdateStep: (step, run) => (step === 'health' ? (reached(run), new Promise<void>(() => {})) : undefined),
    });
    const instance = await runningInstance(h);
    await add(h, '2.0.0');
    void h.part.updater.begin(instance.id, { kind: 'update', version: '2.0.0', actor: 'operator' }).finished.catch(() => undefined);
    await atHealth;
    expect(imageTag(h, instance.id)).toBe('2.0.0');
    expect((await h.service.mustGet(instance.id)).state).toBe('updating');

    const next = await h.openManager();
    // As a starting leader does: interrupted updates first, then the instances.
    await next.part.recover();
    await next.service.recover();
    const [run] = await next.part.updater.history(instance.id);
    expect(run).toMatchObject({ outcome: 'rolled-back', reason: 'interrupted at health by a manager restart' });
    expect((await next.service.mustGet(instance.id)).state).toBe('running');
    expect(imageTag(h, instance.id)).toBe(BUILT_IN_VERSION);
    const url = (await next.service.mustGet(instance.id)).url as string;
    expect(await next.service.exclusive(instance.id, async (ops) => (await ops.call(url, (c) => c.admin.selfCheck.query())).version)).toBe(BUILT_IN_VERSION);
    const dump = await dumpGatewayDb(h.volumeDb(instance.id));
    expect(dump).toContain(`user_version ${SCHEMA_VERSION}\n`);
    expect(dump).toContain('before number 49');
    expect(posts(h, 'jobs').length).toBe(2);
  }, 300_000);
});

describe('backups and restore on Kubernetes', () => {
  it('backup Job → more messages → restore (0 replicas, restore Job, 1 replica): the newer messages gone; a flipped byte is refused and changes nothing', async () => {
    h = await startK8sUpdatesHarness({ gateway: gateway.command, releaseKey: key.publicKey, digests, snapshots: false });
    const instance = await runningInstance(h);
    const backup = await h.part.backups.create(instance.id, 'manual');
    expect(backup.bytes).toBeGreaterThan(0);
    const stored = h.s3.objects.get(`${instance.id}/${backup.id}.acbk`);
    expect(stored?.includes(Buffer.from('before number'))).toBe(false);
    await seedMessages(h.volumeDb(instance.id), 10, 'after');
    expect(await dumpGatewayDb(h.volumeDb(instance.id))).toContain('"name":"seed-after"');

    const restored = await h.part.restorer.restore(instance.id, backup.id, 'operator');
    expect(restored.state).toBe('running');
    const dump = await dumpGatewayDb(h.volumeDb(instance.id));
    expect(dump).toContain('before number 49');
    expect(dump).not.toContain('seed-after');
    const states = (await h.service.events(instance.id)).map((e) => e.to).filter(Boolean);
    expect(states.slice(-6)).toEqual(['stopping', 'stopped', 'restoring', 'stopped', 'starting', 'running']);
    expect(h.find('statefulsets', namesFor(instance.id).statefulSet)?.spec.replicas).toBe(1);
    const restoreJobs = posts(h, 'jobs').length;
    expect(restoreJobs).toBe(2);

    // One flipped byte: refused before the instance is touched.
    const key0 = `${instance.id}/${backup.id}.acbk`;
    const bad = Buffer.from(h.s3.objects.get(key0) as Buffer);
    bad[bad.length - 5] = (bad[bad.length - 5] as number) ^ 1;
    h.s3.objects.set(key0, bad);
    await expect(h.part.restorer.restore(instance.id, backup.id, 'operator')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect((await h.service.mustGet(instance.id)).state).toBe('running');
    expect(posts(h, 'jobs').length).toBe(restoreJobs);
    await waitFor('still ready', () => h?.find('pods', namesFor(instance.id).pod)?.status.conditions?.[0]?.status === 'True');
  }, 300_000);
});

describe('restore into a new instance on Kubernetes', () => {
  it('a restore Job fills a new volume, re-sealing under the new key; the new StatefulSet runs it; the source untouched', async () => {
    h = await startK8sUpdatesHarness({ gateway: gateway.command, releaseKey: key.publicKey, digests, snapshots: false });
    const instance = await runningInstance(h);
    const sourceKey = await dataKeyOf(h, instance.id);
    const store = openStore({ path: h.volumeDb(instance.id) });
    createSettings({ store, vault: createVault(sourceKey), env: {} }).set('anthropic.apiKey', 'sk-ant-k8s-restored-0001');
    store.close();
    const backup = await h.part.backups.create(instance.id, 'manual');
    await seedMessages(h.volumeDb(instance.id), 10, 'after');
    const sourceNow = await dumpGatewayDb(h.volumeDb(instance.id));
    const sourceSts = h.find('statefulsets', namesFor(instance.id).statefulSet);
    const jobsBefore = posts(h, 'jobs').length;

    const made = await h.part.restoreIntoNew.restore(instance.id, backup.id, 'owner@example.com');
    expect(made).toMatchObject({ owner: 'owner@example.com', state: 'running', driver: 'kubernetes', primary: false });
    // One restore Job onto the new instance's claim, with the new instance's own key mounted to re-seal under.
    const jobs = posts(h, 'jobs').slice(jobsBefore);
    expect(jobs.length).toBe(1);
    const job = jobs[0]?.body as unknown as { spec: { template: { spec: { containers: Array<{ args: string[] }>; volumes: Array<{ name: string; persistentVolumeClaim?: { claimName: string }; secret?: { secretName: string } }> } } } };
    expect(job.spec.template.spec.containers[0]?.args).toEqual(expect.arrayContaining(['restore', '--rekey-data-key-file']));
    expect(job.spec.template.spec.volumes.find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName).toBe(namesFor(made.id).pvc);
    expect(job.spec.template.spec.volumes.find((v) => v.name === 'new-data-key')?.secret?.secretName).toBe(namesFor(made.id).dataKeySecret);
    expect(h.find('statefulsets', namesFor(made.id).statefulSet)?.status).toMatchObject({ readyReplicas: 1 });
    expect(await runningVersion(h, made.id)).toBe(BUILT_IN_VERSION);
    const health = (await (await fetch(`${made.url as string}/healthz`)).json()) as { instanceId?: string };
    expect(health.instanceId).toBe(made.id);

    // The backup's data on the new volume; its provider key sealed under the new key only.
    const dump = await dumpGatewayDb(h.volumeDb(made.id));
    expect(dump).toContain('before number 49');
    expect(dump).not.toContain('seed-after');
    const newKey = await dataKeyOf(h, made.id);
    expect(newKey.equals(sourceKey)).toBe(false);
    const restored = openStore({ path: h.volumeDb(made.id) });
    const sealed = restored.getSetting('setting:anthropic.apiKey') as string;
    restored.close();
    expect(createVault(newKey).decrypt(sealed, 'autoclaw-setting/v1:anthropic.apiKey')).toBe('sk-ant-k8s-restored-0001');
    expect(() => createVault(sourceKey).decrypt(sealed, 'autoclaw-setting/v1:anthropic.apiKey')).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));

    // The source: never stopped, its StatefulSet unchanged, its volume as it was.
    expect((await h.service.mustGet(instance.id)).state).toBe('running');
    expect(h.kubelet.starts.get(namesFor(instance.id).pod)).toBe(1);
    expect(h.find('statefulsets', namesFor(instance.id).statefulSet)?.spec).toEqual(sourceSts?.spec);
    expect(await dumpGatewayDb(h.volumeDb(instance.id))).toBe(sourceNow);
    expect(leftovers(h)).toEqual({ jobs: 0, snapshots: 0, storeSecrets: 0, trial: 0, claims: 2 });
  }, 300_000);
});

async function dataKeyOf(harness: K8sUpdatesHarness, id: string): Promise<Buffer> {
  const row = await harness.db.k.selectFrom('instances').select('wrapped_key').where('id', '=', id).executeTakeFirstOrThrow();
  return unwrapDataKey(harness.keys.masterKey, row.wrapped_key, id);
}

describe('releases on Kubernetes are pinned by digest', () => {
  it('a manifest without an image is refused (typed, nothing recorded); an image naming another digest too', async () => {
    h = await startK8sUpdatesHarness({ gateway: gateway.command, releaseKey: key.publicKey, digests, snapshots: false });
    const before = await h.part.releases.list();
    await expect(add(h, '2.4.0')).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('names no image') });
    const other = await buildTestRelease(out, { version: '2.5.0', kind: 'good', key: key.privateKey, image: `${IMAGE}:2.5.0@sha256:${'0'.repeat(64)}` });
    await expect(h.part.releases.add(readFileSync(other.manifestPath, 'utf8'), join(other.manifestPath, '..'))).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('names another digest') });
    expect(await h.part.releases.list()).toEqual(before);
    await add(h, '2.0.0');
    expect(await h.part.releases.imageOf('2.0.0')).toBe(`${IMAGE}:2.0.0@sha256:${releases['2.0.0']!.sha256}`);
  }, 120_000);
});
