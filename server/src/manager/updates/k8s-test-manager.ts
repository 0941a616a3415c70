/**
 * Test support (never imported by product code): one manager — Kubernetes
 * driver, instance service and updates part — on a given database, cluster
 * (kubeconfig) and S3 store. The in-process harness opens its managers with
 * it, and so does the child manager process the kill -9 tests SIGKILL.
 */
import type { ManagerDb } from '../db';
import { createKubernetesDriver } from '../drivers/kubernetes';
import { createInstanceService } from '../instances';
import type { InstanceKeys } from '../instances';
import { createUpdatesPart } from './part';
import type { UpdatesPartOptions } from './part';
import { VERSION as BUILT_IN_VERSION } from '../gateway-parts';

export const K8S_NS = 'claws';
export const K8S_BUCKET = 'autoclaw-backups';
export const S3_CREDENTIALS = { accessKeyId: 'AKIAAUTOCLAWK8S00001', secretAccessKey: 'k8sSecretAccessKey/0123456789abcdefEXAMPLE' };
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

export interface K8sManagerDeps extends Pick<UpdatesPartOptions, 'afterUpdateStep' | 'afterRestoreStep' | 'afterRestoreIntoStep' | 'timings'> {
  dir: string;
  db: ManagerDb;
  keys: InstanceKeys;
  kubeconfigPath: string;
  /** The loopback address of a Service's pod (the test kubelet's). */
  serviceUrl: (service: string) => string;
  s3Url: string;
  releaseKey: string;
  readyTimeoutMs?: number;
}

/** The Kubernetes driver the tests run against the test cluster (its namespace, a small volume, fast watch retries). */
export function testKubernetesDriver(
  kubeconfigPath: string,
  serviceUrl: (service: string) => string,
  extra: Partial<Parameters<typeof createKubernetesDriver>[0]> = {},
) {
  return createKubernetesDriver({
    kubeconfigPath,
    namespace: K8S_NS,
    image: 'ghcr.io/autoclaw/gateway',
    storageSize: '1Gi',
    cpu: { request: '100m' },
    memory: { request: '128Mi' },
    serviceUrl,
    watchBackoff: { initialMs: 20, maxMs: 100 },
    ...extra,
  });
}

export async function openK8sManager(o: K8sManagerDeps) {
  const driver = testKubernetesDriver(o.kubeconfigPath, o.serviceUrl, { jobPollMs: 50, rolloutTimeoutMs: 60_000 });
  let part: Awaited<ReturnType<typeof createUpdatesPart>> | null = null;
  const service = await createInstanceService({ db: o.db, driver, keys: o.keys, version: BUILT_IN_VERSION, readyTimeoutMs: o.readyTimeoutMs ?? 120_000, versionOf: async (id) => (part ? part.versions.versionOf(id) : null), imageOf: async (v) => (part ? part.releases.imageOf(v) : null) });
  part = await createUpdatesPart({
    dataDir: o.dir,
    db: o.db,
    instances: service,
    masterKey: o.keys.masterKey,
    now: Date.now,
    logger: quiet,
    builtInVersion: BUILT_IN_VERSION,
    releaseKeys: [o.releaseKey],
    s3: { endpoint: o.s3Url, bucket: K8S_BUCKET, region: 'eu-central-1', credentials: S3_CREDENTIALS },
    timings: { healthWindowMs: 1_500, healthPollMs: 100, drainTimeoutMs: 2_000, ...o.timings },
    ...(o.afterUpdateStep ? { afterUpdateStep: o.afterUpdateStep } : {}),
    ...(o.afterRestoreStep ? { afterRestoreStep: o.afterRestoreStep } : {}),
    ...(o.afterRestoreIntoStep ? { afterRestoreIntoStep: o.afterRestoreIntoStep } : {}),
  });
  const updates = part;
  let closed = false;
  return {
    driver,
    service,
    part: updates,
    async close() {
      if (closed) return;
      closed = true;
      await updates.close();
      await service.close();
      await driver.close();
    },
  };
}

export type K8sManager = Awaited<ReturnType<typeof openK8sManager>>;
