/**
 * Test support (never imported by product code): the instances and updates
 * parts on the Kubernetes driver, against the local Kubernetes API server
 * whose pods a test kubelet runs as processes (an image pinned by digest
 * runs the release build with that artifact SHA-256 whatever its tag says;
 * else the tag picks the built-in gateway or an added release's), backups in
 * the local S3 server.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startK8sApiServer, startKubelet, startS3Server } from '../../testing';
import { openManagerDb } from '../db';
import { createTestDatabase } from '../db/test-db';
import { namesFor } from '../drivers/kubernetes';
import { testManagerKeys } from '../drivers/local/test-support';
import { K8S_BUCKET, K8S_NS, openK8sManager, S3_CREDENTIALS } from './k8s-test-manager';
import type { K8sManager } from './k8s-test-manager';
import { BUILT_IN_VERSION } from './test-releases';
import type { UpdaterDeps, UpdateTimings } from './updater';


export async function startK8sUpdatesHarness(o: { gateway: string[]; releaseKey: string; snapshots: boolean; digests?: Record<string, string>; crashAfterMs?: number; timings?: Partial<UpdateTimings>; readyTimeoutMs?: number; afterUpdateStep?: UpdaterDeps['afterStep'] }) {
  const dir = mkdtempSync(join(tmpdir(), 'autoclaw-k8s-upd-'));
  const k8s = await startK8sApiServer({ snapshots: o.snapshots });
  const s3 = await startS3Server({ bucket: K8S_BUCKET, accessKeyId: S3_CREDENTIALS.accessKeyId, region: 'eu-central-1' });
  const kubelet = await startKubelet({
    api: k8s,
    namespace: K8S_NS,
    root: join(dir, 'node'),
    env: { AUTOCLAW_TEST_CRASH_AFTER_MS: String(o.crashAfterMs ?? 60_000) },
    commandFor(image) {
      const digest = /@sha256:([0-9a-f]{64})$/.exec(image)?.[1];
      if (digest) {
        const version = o.digests?.[digest];
        const pinned = version ? join(dir, 'releases', version, 'autoclaw.mjs') : null;
        return pinned && existsSync(pinned) ? [process.execPath, pinned] : null;
      }
      const tag = image.slice(image.lastIndexOf(':') + 1);
      if (tag === BUILT_IN_VERSION) return o.gateway;
      const entry = join(dir, 'releases', tag, 'autoclaw.mjs');
      return existsSync(entry) ? [process.execPath, entry] : null;
    },
  });
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, k8s.kubeconfig(K8S_NS));
  const database = await createTestDatabase(dir);
  const db = await openManagerDb(database.target);
  const keys = testManagerKeys();

  const opened: K8sManager[] = [];
  /** A manager's driver, instance service and updates part on the shared database and cluster (another one = a restarted manager). */
  async function openManager(m: { afterUpdateStep?: UpdaterDeps['afterStep'] } = {}) {
    const manager = await openK8sManager({ dir, db, keys, kubeconfigPath, serviceUrl: (svc) => kubelet.serviceUrl(svc), s3Url: s3.url, releaseKey: o.releaseKey, ...(o.readyTimeoutMs ? { readyTimeoutMs: o.readyTimeoutMs } : {}), ...(o.timings ? { timings: o.timings } : {}), ...m });
    opened.push(manager);
    return manager;
  }
  const first = await openManager(o.afterUpdateStep ? { afterUpdateStep: o.afterUpdateStep } : {});
  return {
    dir,
    database,
    kubeconfigPath,
    k8s,
    s3,
    kubelet,
    db,
    keys,
    ...first,
    /** Closes the first manager (the cluster, S3 and database stay up), e.g. before a child process takes over. */
    stopManager: first.close,
    openManager,
    /** The gateway database file on the instance's volume (as the test kubelet keeps it). */
    volumeDb: (instanceId: string) => join(dir, 'node', 'volumes', namesFor(instanceId).pvc, 'gateway.db'),
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read free-form API objects
    find: (resource: string, name: string) => k8s.store.find(resource, K8S_NS, name) as Record<string, any> | undefined,
    async close() {
      for (const m of opened) await m.close();
      await kubelet.close();
      await k8s.close();
      await s3.close();
      await db.close();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type K8sUpdatesHarness = Awaited<ReturnType<typeof startK8sUpdatesHarness>>;
