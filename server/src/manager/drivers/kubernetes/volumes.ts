/**
 * Data operations on an instance's volume, which the manager cannot reach:
 * * backup/restore: a Job in the gateway image (the instance's version) that
 *   mounts the volume and the data-key Secret and runs `autoclaw volume
 *   backup|restore` against the S3 target (its settings in a Secret made for
 *   the Job and deleted with it). A restore into a new instance also mounts
 *   the new instance's own data-key Secret and re-seals the restored secrets
 *   under it (`--rekey-data-key-file`). The Job has pod affinity to the instance's
 *   pod: a ReadWriteOnce volume is shared by pods on one node only.
 * * clone: a VolumeSnapshot (snapshot.storage.k8s.io/v1) of the live claim and
 *   a claim with `dataSource` → that snapshot, where the API server serves that
 *   group; else an empty claim and a copy Job (`autoclaw volume copy`: the
 *   online backup API, safe while the gateway writes). The claim has the name
 *   the clone's StatefulSet claims (`data-<base>-0`), so it adopts it.
 * A Job is named after what it does (a re-run after a manager restart finds
 * it), waited for by its status (Complete / Failed), then deleted.
 */
import { createHash } from 'node:crypto';
import { AppError } from '@autoclaw/shared';
import type { V1Job, V1PersistentVolumeClaim, V1PodAffinityTerm, V1Secret, V1TypedLocalObjectReference } from '@kubernetes/client-node';
import type { InstanceSpec, VolumeBackupStore, VolumeOps } from '../types';
import { isAlreadyExists, isNotFound, toAppError, type KubeClients } from './k8s-api';
import { DATA_DIR, DATA_KEY_DIR, DATA_KEY_FILE, DATA_KEY_KEY, labelsFor } from './manifests';
import { dataKeySecretManifest } from './secrets';
import { imageOfSpec, LABEL_INSTANCE, LABEL_MANAGED_BY, MANAGED_BY, namesFor, type DriverLogger, type InstanceNames, type KubernetesDriverOptions } from './options';

export const SNAPSHOT_GROUP = 'snapshot.storage.k8s.io';
const SNAPSHOT_VERSION = 'v1';
const SOURCE_DIR = '/source';
/** Where a restore Job into a new instance reads that instance's own data key (its Secret, on a tmpfs like the other). */
const NEW_DATA_KEY_DIR = '/run/autoclaw/new-data-key';

const shortHash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 8);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const snapshotNameOf = (clone: InstanceNames) => `${clone.base}-source`;

type JobState = 'running' | 'succeeded' | 'failed';

function jobState(job: V1Job): JobState {
  const conditions = job.status?.conditions ?? [];
  if (conditions.some((c) => c.type === 'Complete' && c.status === 'True') || (job.status?.succeeded ?? 0) > 0) return 'succeeded';
  if (conditions.some((c) => c.type === 'Failed' && c.status === 'True')) return 'failed';
  return 'running';
}

export function createVolumeOps(c: () => Promise<KubeClients>, opts: KubernetesDriverOptions, log: DriverLogger): VolumeOps & { forget(names: InstanceNames): Promise<void> } {
  const namespace = opts.namespace;
  const timeoutMs = opts.jobTimeoutMs ?? 30 * 60_000;
  const pollMs = opts.jobPollMs ?? 500;
  let snapshots: Promise<boolean> | null = null;

  /** Whether the API server serves snapshot.storage.k8s.io/v1 (asked once). */
  function hasSnapshots(k: KubeClients): Promise<boolean> {
    snapshots ??= k.apis.getAPIVersions().then(
      (list) => list.groups.some((g) => g.name === SNAPSHOT_GROUP && g.versions.some((v) => v.version === SNAPSHOT_VERSION)),
      (err: unknown) => {
        snapshots = null;
        throw toAppError(err, 'discover API groups');
      },
    );
    return snapshots;
  }

  async function remove(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (!isNotFound(err)) throw toAppError(err, `delete ${what}`);
    }
  }

  const sameNode = (names: InstanceNames): V1PodAffinityTerm => ({
    labelSelector: { matchLabels: { [LABEL_INSTANCE]: names.base, [LABEL_MANAGED_BY]: MANAGED_BY } },
    topologyKey: 'kubernetes.io/hostname',
  });

  function jobManifest(name: string, names: InstanceNames, spec: InstanceSpec, args: string[], o: { storeSecret?: string; source?: InstanceNames; mountKey: boolean; newKeyOf?: InstanceNames }): V1Job {
    const uid = opts.runAsUser ?? 10001;
    const near = o.source ?? names;
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name, labels: { ...labelsFor(names), 'autoclaw.dev/job': 'volume' } },
      spec: {
        backoffLimit: 1,
        activeDeadlineSeconds: Math.ceil(timeoutMs / 1000),
        ttlSecondsAfterFinished: 3600,
        template: {
          metadata: { labels: { 'autoclaw.dev/job': 'volume', [LABEL_MANAGED_BY]: MANAGED_BY } },
          spec: {
            restartPolicy: 'Never',
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile: { type: 'RuntimeDefault' } },
            affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: sameNode(near) }] } },
            containers: [
              {
                name: 'volume',
                image: imageOfSpec(opts.image, spec),
                ...(opts.imagePullPolicy ? { imagePullPolicy: opts.imagePullPolicy } : {}),
                args,
                ...(o.storeSecret ? { envFrom: [{ secretRef: { name: o.storeSecret } }] } : {}),
                resources: { requests: { cpu: opts.cpu.request, memory: opts.memory.request }, limits: { memory: opts.memory.limit ?? '512Mi' } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                volumeMounts: [
                  { name: 'data', mountPath: DATA_DIR },
                  ...(o.mountKey ? [{ name: 'data-key', mountPath: DATA_KEY_DIR, readOnly: true }] : []),
                  ...(o.newKeyOf ? [{ name: 'new-data-key', mountPath: NEW_DATA_KEY_DIR, readOnly: true }] : []),
                  ...(o.source ? [{ name: 'source', mountPath: SOURCE_DIR, readOnly: true }] : []),
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [
              { name: 'data', persistentVolumeClaim: { claimName: names.pvc } },
              ...(o.mountKey ? [{ name: 'data-key', secret: { secretName: namesFor(spec.instanceId).dataKeySecret, defaultMode: 0o440, items: [{ key: DATA_KEY_KEY, path: DATA_KEY_KEY }] } }] : []),
              ...(o.newKeyOf ? [{ name: 'new-data-key', secret: { secretName: o.newKeyOf.dataKeySecret, defaultMode: 0o440, items: [{ key: DATA_KEY_KEY, path: DATA_KEY_KEY }] } }] : []),
              ...(o.source ? [{ name: 'source', persistentVolumeClaim: { claimName: o.source.pvc, readOnly: true } }] : []),
              { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
            ],
          },
        },
      },
    };
  }

  /** Creates the Job (or finds the one an earlier attempt made), waits until it ends, deletes it; throws with the reason when it failed. */
  async function runJob(k: KubeClients, job: V1Job, what: string): Promise<void> {
    const name = job.metadata?.name as string;
    try {
      await k.batch.createNamespacedJob({ namespace, body: job });
    } catch (err) {
      if (!isAlreadyExists(err)) throw toAppError(err, `create the ${what} job`);
      const earlier = await k.batch.readNamespacedJob({ name, namespace });
      if (jobState(earlier) === 'failed') {
        await remove('job', () => k.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' }));
        await k.batch.createNamespacedJob({ namespace, body: job }).catch((e: unknown) => {
          throw toAppError(e, `create the ${what} job`);
        });
      }
    }
    const until = performance.now() + timeoutMs;
    let state: JobState = 'running';
    let last: V1Job | null = null;
    while (performance.now() < until) {
      last = await k.batch.readNamespacedJob({ name, namespace }).catch((err: unknown) => {
        throw toAppError(err, `read the ${what} job`);
      });
      state = jobState(last);
      if (state !== 'running') break;
      await sleep(pollMs);
    }
    const why = last?.status?.conditions?.find((cond) => cond.type === 'Failed')?.message;
    await remove('job', () => k.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' }));
    if (state === 'running') throw new AppError('TIMEOUT', `kubernetes: the ${what} job did not finish within ${Math.round(timeoutMs / 1000)} s`);
    if (state === 'failed') throw new AppError('INTERNAL', `kubernetes: the ${what} job failed${why ? `: ${why}` : ''}`);
    log.info('kubernetes volume job done', { job: name });
  }

  /** The backup store's settings as a Secret the Job reads through envFrom (deleted with the Job). */
  async function withStoreSecret<T>(k: KubeClients, name: string, names: InstanceNames, store: VolumeBackupStore, fn: () => Promise<T>): Promise<T> {
    const body: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, labels: labelsFor(names) },
      type: 'Opaque',
      stringData: {
        AUTOCLAW_BACKUP_S3_ENDPOINT: store.endpoint,
        AUTOCLAW_BACKUP_S3_BUCKET: store.bucket,
        AUTOCLAW_BACKUP_S3_REGION: store.region,
        AUTOCLAW_BACKUP_S3_ACCESS_KEY_ID: store.credentials.accessKeyId,
        AUTOCLAW_BACKUP_S3_SECRET_ACCESS_KEY: store.credentials.secretAccessKey,
      },
    };
    try {
      await k.core.createNamespacedSecret({ namespace, body });
    } catch (err) {
      if (!isAlreadyExists(err)) throw toAppError(err, 'create the backup store secret');
      await k.core.replaceNamespacedSecret({ name, namespace, body }).catch((e: unknown) => {
        throw toAppError(e, 'update the backup store secret');
      });
    }
    try {
      return await fn();
    } finally {
      await remove('backup store secret', () => k.core.deleteNamespacedSecret({ name, namespace })).catch(() => undefined);
    }
  }

  function claimFor(clone: InstanceNames, dataSource?: V1TypedLocalObjectReference): V1PersistentVolumeClaim {
    return {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: clone.pvc, labels: labelsFor(clone) },
      spec: {
        accessModes: ['ReadWriteOnce'],
        ...(opts.storageClass ? { storageClassName: opts.storageClass } : {}),
        resources: { requests: { storage: opts.storageSize } },
        ...(dataSource ? { dataSource } : {}),
      },
    };
  }

  async function createClaim(k: KubeClients, body: V1PersistentVolumeClaim): Promise<void> {
    await k.core.createNamespacedPersistentVolumeClaim({ namespace, body }).catch((err: unknown) => {
      throw toAppError(err, 'create the clone volume claim');
    });
  }

  async function waitSnapshotReady(k: KubeClients, name: string): Promise<void> {
    const until = performance.now() + timeoutMs;
    while (performance.now() < until) {
      const snap = (await k.custom.getNamespacedCustomObject({ group: SNAPSHOT_GROUP, version: SNAPSHOT_VERSION, namespace, plural: 'volumesnapshots', name }).catch((err: unknown) => {
        throw toAppError(err, 'read the volume snapshot');
      })) as { status?: { readyToUse?: boolean; error?: { message?: string } } };
      if (snap.status?.readyToUse === true) return;
      if (snap.status?.error?.message) throw new AppError('INTERNAL', `kubernetes: the volume snapshot failed: ${snap.status.error.message}`);
      await sleep(pollMs);
    }
    throw new AppError('TIMEOUT', `kubernetes: the volume snapshot was not ready within ${Math.round(timeoutMs / 1000)} s`);
  }

  return {
    rollsInPlace: true,

    async backup(spec, o) {
      const k = await c();
      const names = namesFor(spec.instanceId);
      const name = `${names.base}-bk-${shortHash(o.backupId)}`;
      const args = ['volume', 'backup', '--data', DATA_DIR, '--data-key-file', DATA_KEY_FILE, '--instance-id', spec.instanceId, '--backup-id', o.backupId, '--created-at', String(o.createdAt)];
      await withStoreSecret(k, `${name}-store`, names, o.store, () => runJob(k, jobManifest(name, names, spec, args, { storeSecret: `${name}-store`, mountKey: true }), 'backup'));
    },

    async restore(spec, o) {
      const k = await c();
      const into = namesFor(o.into ?? spec.instanceId);
      if (o.into) {
        try {
          await k.core.createNamespacedPersistentVolumeClaim({ namespace, body: claimFor(into) });
        } catch (err) {
          if (!isAlreadyExists(err)) throw toAppError(err, 'create the volume claim to restore into');
        }
      }
      if (o.newInstance) {
        // The new instance's own key, in its Secret before the Job that re-seals under it (the StatefulSet made later mounts the same one).
        const body = dataKeySecretManifest(into, o.newInstance.instanceId, o.newInstance.dataKey);
        try {
          await k.core.createNamespacedSecret({ namespace, body });
        } catch (err) {
          if (!isAlreadyExists(err)) throw toAppError(err, 'create the new instance\'s data key secret');
          await k.core.replaceNamespacedSecret({ name: into.dataKeySecret, namespace, body }).catch((e: unknown) => {
            throw toAppError(e, 'update the new instance\'s data key secret');
          });
        }
      }
      const name = `${into.base}-rs-${shortHash(o.backupId)}`;
      const args = ['volume', 'restore', '--data', DATA_DIR, '--data-key-file', DATA_KEY_FILE, '--instance-id', spec.instanceId, '--backup-id', o.backupId, '--sha256', o.sha256];
      if (o.newInstance) args.push('--rekey-data-key-file', `${NEW_DATA_KEY_DIR}/${DATA_KEY_KEY}`);
      const job = jobManifest(name, into, spec, args, { storeSecret: `${name}-store`, mountKey: true, ...(o.newInstance ? { newKeyOf: into } : {}) });
      await withStoreSecret(k, `${name}-store`, into, o.store, () => runJob(k, job, 'restore'));
    },

    async clone(spec, cloneId) {
      const k = await c();
      const live = namesFor(spec.instanceId);
      const clone = namesFor(cloneId);
      if (await hasSnapshots(k)) {
        const snapshot = snapshotNameOf(clone);
        await remove('volume snapshot', () => k.custom.deleteNamespacedCustomObject({ group: SNAPSHOT_GROUP, version: SNAPSHOT_VERSION, namespace, plural: 'volumesnapshots', name: snapshot }));
        const body = {
          apiVersion: `${SNAPSHOT_GROUP}/${SNAPSHOT_VERSION}`,
          kind: 'VolumeSnapshot',
          metadata: { name: snapshot, labels: labelsFor(clone) },
          spec: { ...(opts.snapshotClass ? { volumeSnapshotClassName: opts.snapshotClass } : {}), source: { persistentVolumeClaimName: live.pvc } },
        };
        await k.custom.createNamespacedCustomObject({ group: SNAPSHOT_GROUP, version: SNAPSHOT_VERSION, namespace, plural: 'volumesnapshots', body }).catch((err: unknown) => {
          throw toAppError(err, 'create the volume snapshot');
        });
        await waitSnapshotReady(k, snapshot);
        await createClaim(k, claimFor(clone, { apiGroup: SNAPSHOT_GROUP, kind: 'VolumeSnapshot', name: snapshot }));
        log.info('kubernetes volume cloned from a snapshot', { from: live.pvc, to: clone.pvc });
        return 'snapshot';
      }
      await createClaim(k, claimFor(clone));
      const name = `${clone.base}-cp`;
      const args = ['volume', 'copy', '--from', SOURCE_DIR, '--data', DATA_DIR];
      await runJob(k, jobManifest(name, clone, spec, args, { source: live, mountKey: false }), 'copy');
      log.info('kubernetes volume cloned by a copy job', { from: live.pvc, to: clone.pvc });
      return 'copy';
    },

    /** Removes what a clone left besides the clone's own objects (its source snapshot). */
    async forget(names) {
      const k = await c();
      if (!(await hasSnapshots(k).catch(() => false))) return;
      await remove('volume snapshot', () => k.custom.deleteNamespacedCustomObject({ group: SNAPSHOT_GROUP, version: SNAPSHOT_VERSION, namespace, plural: 'volumesnapshots', name: snapshotNameOf(names) }));
    },
  };
}
