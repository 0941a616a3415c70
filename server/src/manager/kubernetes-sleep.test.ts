/**
 * Scale to zero on Kubernetes: a real manager with the Kubernetes driver
 * against the local API server, whose pods a test kubelet runs as real
 * gateway processes (testing/k8s-kubelet.ts). An idle instance sleeps — its
 * StatefulSet scales to 0 and the pod and process go; a client through the
 * door wakes it — the StatefulSet scales to 1, the pod becomes ready, and
 * the held request is forwarded to the gateway. The owner's backups go
 * through the same manager API as on the local driver: Jobs on the volume
 * and the local S3 server.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '@autoclaw/shared';
import { startK8sApiServer, startKubelet, startS3Server } from '../testing';
import type { K8sApiServer, Kubelet, S3Server } from '../testing';
import { namesFor } from './drivers/kubernetes';
import { K8S_NS, testKubernetesDriver } from './updates/k8s-test-manager';
import { bundleGatewayCommand, waitFor } from './drivers/local/test-support';
import { startTestManager } from './test-kit';
import type { TestManager } from './test-kit';

const NS = K8S_NS;

describe('sleep and wake on Kubernetes', () => {
  let t: TestManager;
  let k8s: K8sApiServer;
  let kubelet: Kubelet;
  let dir: string;
  let dispose: () => void;
  let instance: Instance;
  let token: string;
  let s3: S3Server;
  const credentials = { accessKeyId: 'AKIAAUTOCLAWSLEEP001', secretAccessKey: 'sleepSecretAccessKey/0123456789abcdefEXAMPLE' };

  const service = () => {
    const s = t.manager.services.instances;
    if (!s) throw new Error('no instances part');
    return s;
  };
  const state = async () => (await service().mustGet(instance.id)).state;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the test reads free-form API objects
  const sts = () => k8s.store.find('statefulsets', NS, namesFor(instance.id).statefulSet) as Record<string, any> | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-k8s-sleep-'));
    const bundle = await bundleGatewayCommand();
    dispose = bundle.dispose;
    k8s = await startK8sApiServer();
    s3 = await startS3Server({ bucket: 'autoclaw-backups', accessKeyId: credentials.accessKeyId, region: 'eu-central-1' });
    kubelet = await startKubelet({ api: k8s, namespace: NS, root: join(dir, 'node'), commandFor: () => bundle.command });
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, k8s.kubeconfig(NS));
    const driver = testKubernetesDriver(kubeconfigPath, (svc) => kubelet.serviceUrl(svc));
    t = await startTestManager({
      config: { backupS3: { endpoint: s3.url, bucket: 'autoclaw-backups', region: 'eu-central-1', credentials } },
      options: { instances: { driver, idle: { sleepAfterMs: 50, checkEveryMs: 3_600_000 }, wakeTimeoutMs: 120_000, readyTimeoutMs: 120_000, supervisor: { intervalMs: 3_600_000 } } },
    });
    token = (await t.setupOwner('sleeper@example.com')).token;
    const api = t.client(token);
    await api.instances.create.mutate();
    instance = await waitFor('running', async () => {
      const mine = await api.instances.mine.query();
      return mine?.state === 'running' ? mine : null;
    }, 120_000);
  }, 180_000);
  afterAll(async () => {
    await t?.close();
    await kubelet?.close();
    await k8s?.close();
    await s3?.close();
    dispose?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('idle → the StatefulSet scales to 0 (state sleeping); a request through the door → 1 replica, ready, forwarded', async () => {
    const names = namesFor(instance.id);
    expect(instance.driver).toBe('kubernetes');
    expect(sts()?.spec.replicas).toBe(1);
    expect(kubelet.running()).toEqual([names.pod]);

    await waitFor('the instance to sleep', async () => {
      await t.manager.sleepRound();
      return (await state()) === 'sleeping';
    }, 20_000, 60);
    expect(sts()?.spec.replicas).toBe(0);
    await waitFor('the pod and its process to go', () => k8s.store.find('pods', NS, names.pod) === undefined && kubelet.running().length === 0);
    const events = await service().events(instance.id);
    expect(events.find((e) => e.to === 'sleeping')?.message).toMatch(/^idle for .*: no client, no turn, no channel that needs a live process$/);

    // A client through the door: held while the StatefulSet scales up and the pod becomes ready, then forwarded.
    // (The owner's session: the door lets only the owner's account through.)
    const res = await fetch(`${t.url}/i/${instance.id}/healthz`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { instanceId?: string }).instanceId).toBe(instance.id);
    expect(sts()?.spec.replicas).toBe(1);
    expect(sts()?.status.readyReplicas).toBe(1);
    expect(await state()).toBe('running');
    expect(kubelet.starts.get(names.pod)).toBe(2);
    const woken = (await service().events(instance.id)).filter((e) => e.from === 'sleeping');
    expect(woken.map((e) => e.to)).toEqual(['starting']);
    // The scale requests went to the StatefulSet's scale subresource: 0, then 1.
    const scales = k8s.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(`/statefulsets/${names.statefulSet}/scale`));
    expect(scales.length).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it("the owner's backups through the manager API: create (a Job on the volume writes to S3), list, restore (0 replicas, a restore Job, 1 replica)", async () => {
    const api = t.client(token);
    const names = namesFor(instance.id);
    const jobsBefore = k8s.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/jobs')).length;
    const backup = await api.backups.create.mutate({ instanceId: instance.id });
    expect(backup).toMatchObject({ instanceId: instance.id, kind: 'manual' });
    expect(s3.objects.has(`${instance.id}/${backup.id}.acbk`)).toBe(true);
    expect((await api.backups.list.query({ instanceId: instance.id })).map((b) => b.id)).toEqual([backup.id]);

    const restored = await api.backups.restore.mutate({ instanceId: instance.id, backupId: backup.id });
    expect(restored.state).toBe('running');
    const states = (await service().events(instance.id)).map((e) => e.to).filter(Boolean);
    expect(states.slice(-6)).toEqual(['stopping', 'stopped', 'restoring', 'stopped', 'starting', 'running']);
    expect(k8s.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/jobs')).length - jobsBefore).toBe(2);
    expect(sts()?.spec.replicas).toBe(1);
    expect(k8s.store.list('jobs', NS).items).toEqual([]);
    const res = await fetch(`${t.url}/i/${instance.id}/healthz`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(kubelet.running()).toEqual([names.pod]);
  }, 120_000);
});
