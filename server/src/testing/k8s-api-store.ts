/**
 * Test support for the Kubernetes API server: an in-memory object store with
 * resourceVersions, an event history for watches (that can be compacted so an
 * old resourceVersion gets 410 Expired), Status errors shaped like the API
 * server's, and a tiny StatefulSet controller (replicas 0/1 → pod `NAME-0`,
 * PVCs from volumeClaimTemplates that outlive the StatefulSet, pod status the
 * test drives: ready, crashed, terminating; a template change rolls the pod
 * to the new revision once the old one is ready — one that is not ready is
 * left for the client to delete, as the real controller does), and a tiny Job
 * controller (a pod per attempt up to backoffLimit, Complete/Failed
 * conditions; the test ends each pod with `finishJobPod`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { conflict, K8sStatusError, notFound, qualified, RESOURCES, REVISION_LABEL, revisionOf } from './k8s-api-objects';
import type { K8sMeta, K8sObject, StoreWatcher, WatchEventType } from './k8s-api-objects';
import { applyPatch, type PatchType } from './k8s-patch';

export { K8sStatusError, RESOURCES, revisionOf } from './k8s-api-objects';
export type { K8sMeta, K8sObject, StoreWatcher, WatchEventType } from './k8s-api-objects';

export interface StoreOptions {
  /** Pods become Running and ready as soon as they are created. */
  autoReady?: boolean;
  /** Pods deleted with a grace period stay (with deletionTimestamp) until `finishTerminations()` or a delete with grace 0. */
  holdTermination?: boolean;
}

const clone = <T>(v: T): T => structuredClone(v);

export class K8sStore {
  private rv = 100;
  private readonly data = new Map<string, Map<string, K8sObject>>();
  private history: Array<{ rv: number; resource: string; namespace: string; type: WatchEventType; object: K8sObject }> = [];
  /** Events at or below this resourceVersion are gone (watching from them gets 410). */
  compactedThrough = 0;
  readonly watchers = new Set<StoreWatcher>();
  readonly logs = new Map<string, { current: string; previous?: string }>();

  constructor(readonly options: StoreOptions = {}) {}

  get resourceVersion(): number {
    return this.rv;
  }

  private table(resource: string): Map<string, K8sObject> {
    let t = this.data.get(resource);
    if (!t) this.data.set(resource, (t = new Map()));
    return t;
  }

  private emit(type: WatchEventType, resource: string, namespace: string, obj: K8sObject): void {
    const rv = Number(obj.metadata.resourceVersion);
    this.history.push({ rv, resource, namespace, type, object: clone(obj) });
    for (const w of this.watchers) if (w.resource === resource && w.namespace === namespace && w.matches(obj)) w.push(type, clone(obj));
  }

  /** Events after `rv` for a watch that starts there; throws 410 when they were compacted. */
  eventsSince(resource: string, namespace: string, rv: number): Array<{ type: WatchEventType; object: K8sObject }> {
    if (rv < this.compactedThrough) {
      throw new K8sStatusError(410, 'Expired', `too old resource version: ${rv} (${this.compactedThrough + 1})`);
    }
    return this.history.filter((e) => e.rv > rv && e.resource === resource && e.namespace === namespace).map((e) => ({ type: e.type, object: clone(e.object) }));
  }

  /** Forgets the event history (etcd compaction): watches from older resourceVersions get 410. */
  compact(): void {
    this.compactedThrough = this.rv;
    this.history = [];
  }

  get(resource: string, namespace: string, name: string): K8sObject {
    const obj = this.table(resource).get(`${namespace}/${name}`);
    if (!obj) throw notFound(resource, name);
    return clone(obj);
  }

  find(resource: string, namespace: string, name: string): K8sObject | undefined {
    const obj = this.table(resource).get(`${namespace}/${name}`);
    return obj ? clone(obj) : undefined;
  }

  list(resource: string, namespace: string, matches: (o: K8sObject) => boolean = () => true): { items: K8sObject[]; resourceVersion: string } {
    const items = [...this.table(resource).entries()].filter(([k, o]) => k.startsWith(`${namespace}/`) && matches(o)).map(([, o]) => clone(o));
    return { items, resourceVersion: String(this.rv) };
  }

  private put(resource: string, namespace: string, obj: K8sObject, type: WatchEventType): K8sObject {
    obj.metadata.resourceVersion = String(++this.rv);
    this.table(resource).set(`${namespace}/${obj.metadata.name}`, obj);
    this.emit(type, resource, namespace, obj);
    return clone(obj);
  }

  create(resource: string, namespace: string, body: K8sObject): K8sObject {
    const info = RESOURCES[resource];
    const name = body.metadata?.name;
    if (!info || typeof name !== 'string' || !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) {
      throw new K8sStatusError(422, 'Invalid', `${info?.kind ?? resource} "${String(name)}" is invalid: metadata.name: Invalid value`);
    }
    if (body.metadata.namespace !== undefined && body.metadata.namespace !== namespace) {
      throw new K8sStatusError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
    if (this.table(resource).has(`${namespace}/${name}`)) {
      throw new K8sStatusError(409, 'AlreadyExists', `${qualified(resource)} "${name}" already exists`, { name, group: info.group, kind: resource });
    }
    const obj = clone(body);
    obj.apiVersion = info.group === '' ? info.version : `${info.group}/${info.version}`;
    obj.kind = info.kind;
    obj.metadata = { ...obj.metadata, namespace, uid: randomUUID(), creationTimestamp: new Date().toISOString(), generation: 1 };
    if (resource === 'secrets' && obj.stringData && typeof obj.stringData === 'object') {
      const data = { ...((obj.data as Record<string, string> | undefined) ?? {}) };
      for (const [k, v] of Object.entries(obj.stringData as Record<string, string>)) data[k] = Buffer.from(v).toString('base64');
      obj.data = data;
      delete obj.stringData;
    }
    if (resource === 'services') {
      const spec = (obj.spec ?? {}) as Record<string, unknown>;
      obj.spec = { type: 'ClusterIP', ...spec, clusterIP: spec.clusterIP ?? `10.96.0.${(this.rv % 250) + 1}` };
    }
    if (resource === 'persistentvolumeclaims') obj.status = { phase: 'Bound' };
    if (resource === 'volumesnapshots') obj.status = { readyToUse: false };
    if (resource === 'jobs') obj.status = { active: 0, succeeded: 0, failed: 0, startTime: new Date().toISOString() };
    const created = this.put(resource, namespace, obj, 'ADDED');
    if (resource === 'statefulsets') this.reconcile(namespace, name);
    if (resource === 'jobs') this.startJobPod(namespace, name);
    return this.find(resource, namespace, name) ?? created;
  }

  replace(resource: string, namespace: string, name: string, body: K8sObject): K8sObject {
    const current = this.get(resource, namespace, name);
    const sent = body.metadata?.resourceVersion;
    if (sent !== undefined && sent !== current.metadata.resourceVersion) throw conflict(resource, name);
    const obj = clone(body);
    obj.apiVersion = current.apiVersion;
    obj.kind = current.kind;
    obj.metadata = { ...obj.metadata, name, namespace, uid: current.metadata.uid, creationTimestamp: current.metadata.creationTimestamp, generation: (current.metadata.generation ?? 1) + 1 };
    this.put(resource, namespace, obj, 'MODIFIED');
    if (resource === 'statefulsets') this.reconcile(namespace, name);
    return this.get(resource, namespace, name);
  }

  patch(resource: string, namespace: string, name: string, type: PatchType, patch: unknown): K8sObject {
    const current = this.get(resource, namespace, name);
    let next: K8sObject;
    try {
      next = applyPatch(type, current, patch) as K8sObject;
    } catch (err) {
      throw new K8sStatusError(422, 'Invalid', `the patch could not be applied: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (next.metadata?.resourceVersion !== current.metadata.resourceVersion) throw conflict(resource, name);
    next.metadata = { ...next.metadata, name, namespace, uid: current.metadata.uid };
    if (JSON.stringify(next.spec) !== JSON.stringify(current.spec)) next.metadata.generation = (current.metadata.generation ?? 1) + 1;
    this.put(resource, namespace, next, 'MODIFIED');
    if (resource === 'statefulsets') this.reconcile(namespace, name);
    return this.get(resource, namespace, name);
  }

  delete(resource: string, namespace: string, name: string, gracePeriodSeconds?: number): K8sObject {
    const current = this.get(resource, namespace, name);
    if (resource === 'pods' && this.options.holdTermination && gracePeriodSeconds !== 0) {
      if (!current.metadata.deletionTimestamp) {
        current.metadata.deletionTimestamp = new Date().toISOString();
        return this.put(resource, namespace, current, 'MODIFIED');
      }
      return current;
    }
    this.table(resource).delete(`${namespace}/${name}`);
    current.metadata.resourceVersion = String(++this.rv);
    this.emit('DELETED', resource, namespace, current);
    if (resource === 'statefulsets' || resource === 'jobs') {
      for (const pod of this.list('pods', namespace, (p) => ownedBy(p, name)).items) this.delete('pods', namespace, pod.metadata.name, 0);
    }
    if (resource === 'pods') {
      const ref = current.metadata.ownerReferences?.[0];
      if (typeof ref?.name === 'string' && ref.kind === 'StatefulSet') this.reconcile(namespace, ref.name);
    }
    return current;
  }

  /** Removes every pod that is terminating (the kubelet finished). */
  finishTerminations(namespace: string): void {
    for (const pod of this.list('pods', namespace, (p) => p.metadata.deletionTimestamp !== undefined).items) this.delete('pods', namespace, pod.metadata.name, 0);
  }

  /** The StatefulSet controller for ordinal 0. */
  reconcile(namespace: string, name: string): void {
    const sts = this.find('statefulsets', namespace, name);
    if (!sts) return;
    const spec = (sts.spec ?? {}) as { replicas?: number; template?: { metadata?: K8sMeta; spec?: Record<string, unknown> }; volumeClaimTemplates?: K8sObject[]; serviceName?: string };
    const podName = `${name}-0`;
    const updateRevision = revisionOf(name, spec.template);
    let pod = this.find('pods', namespace, podName);
    const podRevision = pod?.metadata.labels?.[REVISION_LABEL];
    if (pod && !pod.metadata.deletionTimestamp && podRevision !== updateRevision && isReady(pod) && (spec.replicas ?? 1) >= 1) {
      // RollingUpdate: the old revision's pod goes and the new one comes (delete → reconcile creates it).
      this.delete('pods', namespace, podName);
      if (this.find('pods', namespace, podName)) this.updateStatus(namespace, name, updateRevision);
      return;
    }
    if ((spec.replicas ?? 1) >= 1 && !pod) {
      const volumes = [...((spec.template?.spec?.volumes as unknown[] | undefined) ?? [])];
      for (const tpl of spec.volumeClaimTemplates ?? []) {
        const claimName = `${tpl.metadata.name}-${name}-0`;
        if (!this.find('persistentvolumeclaims', namespace, claimName)) {
          this.create('persistentvolumeclaims', namespace, { metadata: { name: claimName, labels: spec.template?.metadata?.labels ?? {} }, spec: tpl.spec });
        }
        volumes.push({ name: tpl.metadata.name, persistentVolumeClaim: { claimName } });
      }
      const containers = (spec.template?.spec?.containers as Array<{ name: string; image?: string }> | undefined) ?? [];
      pod = this.create('pods', namespace, {
        metadata: {
          name: podName,
          labels: { ...(spec.template?.metadata?.labels ?? {}), 'statefulset.kubernetes.io/pod-name': podName, [REVISION_LABEL]: updateRevision },
          annotations: { ...(spec.template?.metadata?.annotations ?? {}) },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name, uid: sts.metadata.uid, controller: true }],
        },
        spec: { ...(spec.template?.spec ?? {}), volumes, hostname: podName, ...(spec.serviceName ? { subdomain: spec.serviceName } : {}) },
        status: {
          phase: 'Pending',
          conditions: [{ type: 'Ready', status: 'False' }],
          containerStatuses: containers.map((c) => ({ name: c.name, image: c.image, ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } })),
        },
      });
      if (this.options.autoReady) pod = this.setPodReady(namespace, podName, true);
    } else if ((spec.replicas ?? 1) === 0 && pod && !pod.metadata.deletionTimestamp) {
      this.delete('pods', namespace, podName);
      pod = this.find('pods', namespace, podName);
    }
    this.updateStatus(namespace, name, updateRevision);
  }

  private updateStatus(namespace: string, name: string, updateRevision: string): void {
    const latest = this.find('statefulsets', namespace, name);
    if (!latest) return;
    const pod = this.find('pods', namespace, `${name}-0`);
    const ready = pod ? isReady(pod) : false;
    const podRevision = pod?.metadata.labels?.[REVISION_LABEL];
    const before = latest.status as { currentRevision?: string } | undefined;
    const updated = pod !== undefined && podRevision === updateRevision;
    const status = {
      observedGeneration: latest.metadata.generation,
      replicas: pod ? 1 : 0,
      readyReplicas: ready ? 1 : 0,
      availableReplicas: ready ? 1 : 0,
      currentReplicas: pod ? 1 : 0,
      updatedReplicas: updated ? 1 : 0,
      currentRevision: updated || !pod ? updateRevision : (podRevision ?? before?.currentRevision ?? updateRevision),
      updateRevision,
    };
    if (JSON.stringify(latest.status) !== JSON.stringify(status)) {
      latest.status = status;
      this.put('statefulsets', namespace, latest, 'MODIFIED');
    }
  }

  /** The Job controller: one pod per attempt. */
  private startJobPod(namespace: string, jobName: string): void {
    const job = this.find('jobs', namespace, jobName);
    if (!job) return;
    const tpl = ((job.spec as { template?: { metadata?: K8sMeta; spec?: Record<string, unknown> } }).template ?? {}) as { metadata?: K8sMeta; spec?: Record<string, unknown> };
    const containers = (tpl.spec?.containers as Array<{ name: string; image?: string }> | undefined) ?? [];
    this.create('pods', namespace, {
      metadata: {
        name: `${jobName}-${randomBytes(3).toString('hex').slice(0, 5)}`,
        labels: { ...(tpl.metadata?.labels ?? {}), 'job-name': jobName, 'batch.kubernetes.io/job-name': jobName },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: job.metadata.uid, controller: true }],
      },
      spec: { ...(tpl.spec ?? {}) },
      status: { phase: 'Pending', containerStatuses: containers.map((c) => ({ name: c.name, image: c.image, ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } })) },
    });
    const latest = this.get('jobs', namespace, jobName);
    latest.status = { ...(latest.status as object), active: 1 };
    this.put('jobs', namespace, latest, 'MODIFIED');
  }

  /** The kubelet saw a Job's pod end: the pod's phase, and the Job's counters and conditions (another attempt within backoffLimit). */
  finishJobPod(namespace: string, podName: string, exitCode: number, message = ''): void {
    const pod = this.find('pods', namespace, podName);
    if (!pod) return;
    pod.status = { ...(pod.status as object), phase: exitCode === 0 ? 'Succeeded' : 'Failed', containerStatuses: [{ name: 'volume', ready: false, restartCount: 0, state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', message } } }] };
    this.put('pods', namespace, pod, 'MODIFIED');
    const jobName = pod.metadata.ownerReferences?.[0]?.name;
    const job = typeof jobName === 'string' ? this.find('jobs', namespace, jobName) : undefined;
    if (!job || typeof jobName !== 'string') return;
    const st = (job.status ?? {}) as { succeeded?: number; failed?: number };
    const backoffLimit = (job.spec as { backoffLimit?: number }).backoffLimit ?? 6;
    const now = new Date().toISOString();
    if (exitCode === 0) {
      job.status = { ...st, active: 0, succeeded: (st.succeeded ?? 0) + 1, completionTime: now, conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: now }] };
      this.put('jobs', namespace, job, 'MODIFIED');
      return;
    }
    const failed = (st.failed ?? 0) + 1;
    if (failed > backoffLimit) {
      job.status = { ...st, active: 0, failed, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: `Job has reached the specified backoff limit${message ? ` (last pod: ${message})` : ''}`, lastTransitionTime: now }] };
      this.put('jobs', namespace, job, 'MODIFIED');
      return;
    }
    job.status = { ...st, active: 0, failed };
    this.put('jobs', namespace, job, 'MODIFIED');
    this.startJobPod(namespace, jobName);
  }

  setPodReady(namespace: string, name: string, ready: boolean): K8sObject {
    const pod = this.get('pods', namespace, name);
    const status = pod.status as { containerStatuses?: Array<Record<string, unknown>> };
    pod.status = {
      ...status,
      phase: 'Running',
      podIP: '10.244.0.17',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: (status.containerStatuses ?? []).map((c) => ({ ...c, ready, state: { running: { startedAt: new Date().toISOString() } } })),
    };
    const out = this.put('pods', namespace, pod, 'MODIFIED');
    const owner = pod.metadata.ownerReferences?.[0]?.name;
    if (typeof owner === 'string') this.reconcile(namespace, owner);
    return out;
  }

  /** A container died and was restarted by the kubelet: restartCount+1, lastState.terminated, previous logs kept. */
  crashContainer(namespace: string, name: string, container: string, exitCode: number): void {
    const pod = this.get('pods', namespace, name);
    const status = pod.status as { containerStatuses?: Array<Record<string, unknown> & { name: string; restartCount?: number }> };
    pod.status = {
      ...status,
      conditions: [{ type: 'Ready', status: 'False' }],
      containerStatuses: (status.containerStatuses ?? []).map((c) =>
        c.name !== container
          ? c
          : { ...c, ready: false, restartCount: (c.restartCount ?? 0) + 1, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode, reason: 'Error' } } },
      ),
    };
    const key = `${namespace}/${name}/${container}`;
    this.logs.set(key, { current: '', previous: this.logs.get(key)?.current ?? '' });
    this.put('pods', namespace, pod, 'MODIFIED');
    const owner = pod.metadata.ownerReferences?.[0]?.name;
    if (typeof owner === 'string') this.reconcile(namespace, owner);
  }
}

function isReady(pod: K8sObject): boolean {
  return ((pod.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export function ownedBy(obj: K8sObject, ownerName: string): boolean {
  return (obj.metadata.ownerReferences ?? []).some((r) => r.name === ownerName);
}
