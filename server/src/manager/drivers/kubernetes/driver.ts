/**
 * The Kubernetes driver: each instance is a one-replica StatefulSet (with a
 * volume, a headless Service, its Secrets and, with Tailscale, a sidecar) in
 * one namespace. start/stop scale it 1/0; destroy removes every object
 * including the volume claim; status reads the pod (from a list-watch cache
 * when it is synced) and, for a troubled gateway, its last log lines; adopt
 * finds an instance's StatefulSet after a manager restart.
 */
import { AppError } from '@autoclaw/shared';
import type { V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import type { DriverStatus, InstanceDriver, InstanceRuntime, InstanceSpec } from '../types';
import { loadKubeClients, toAppError, type KubeClients } from './k8s-api';
import { serviceUrlOf } from './manifests';
import { ANNOTATION_INSTANCE_ID, LABEL_MANAGED_BY, MANAGED_BY, namesFor, validateOptions, type DriverLogger, type InstanceNames, type KubernetesDriverOptions } from './options';
import { gatewayStatus, lastExitCode, podAlive, podEvent, podReady, type InstancePodEvent } from './pod-state';
import { PodWatcher } from './pod-watcher';
import { createInstanceResources, type InstanceResources } from './resources';
import { tailnetDeviceFrom, type TailnetDevice } from './secrets';
import { createVolumeOps } from './volumes';
import { imageOfSpec } from './options';

const LOG_LINES = 50;
const DEFAULT_GRACE_MS = 30_000;
const REVISION_LABEL = 'controller-revision-hash';

export interface KubernetesDriverStatus extends DriverStatus {
  phase?: string;
  ready?: boolean;
  restarts?: number;
}

export interface KubernetesDriver extends InstanceDriver {
  readonly kind: 'kubernetes';
  /** Loads the client and starts the pod watch; operations do it on first use, call it to fail fast. */
  init(): Promise<void>;
  status(instanceId: string): Promise<KubernetesDriverStatus>;
  /** Pod changes of every instance, as they happen (the supervisor can react without polling). */
  onPodEvent(listener: (event: InstancePodEvent) => void): () => void;
  /** Resolves once the instance's pod is ready; TIMEOUT after `timeoutMs`. */
  waitForReady(instanceId: string, timeoutMs: number): Promise<void>;
  /** The sidecar's tailnet device once it joined (MagicDNS name → `https://NAME`), else null. */
  tailnetDevice(instanceId: string): Promise<TailnetDevice | null>;
}

const silent: DriverLogger = { info() {}, warn() {}, error() {} };

export function createKubernetesDriver(opts: KubernetesDriverOptions): KubernetesDriver {
  validateOptions(opts);
  const log = opts.logger ?? silent;
  const namespace = opts.namespace;
  const listeners = new Set<(e: InstancePodEvent) => void>();
  let ready: Promise<{ c: KubeClients; res: InstanceResources; watcher: PodWatcher<V1Pod> | null }> | null = null;
  let closed = false;
  /** Waits in progress; close() ends them (as not met) so no timer outlives the driver. */
  const waits = new Set<(ok: boolean) => void>();

  function init(): Promise<{ c: KubeClients; res: InstanceResources; watcher: PodWatcher<V1Pod> | null }> {
    if (closed) return Promise.reject(new AppError('CANCELLED', 'kubernetes driver is closed'));
    ready ??= (async () => {
      const c = await loadKubeClients(opts);
      const res = createInstanceResources(c, opts, log);
      let watcher: PodWatcher<V1Pod> | null = null;
      if (opts.watch !== false) {
        const labelSelector = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;
        watcher = new PodWatcher<V1Pod>({
          logger: log,
          ...(opts.watchBackoff ? { backoff: opts.watchBackoff } : {}),
          source: {
            async list() {
              const list = await c.core.listNamespacedPod({ namespace, labelSelector });
              return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
            },
            async watch(resourceVersion, onEvent, onDone) {
              const w = new c.lib.Watch(c.kc);
              const ctrl = await w.watch(`/api/v1/namespaces/${namespace}/pods`, { labelSelector, resourceVersion, allowWatchBookmarks: true }, onEvent, onDone);
              return { abort: () => ctrl.abort() };
            },
          },
        });
        watcher.onEvent((type, pod) => {
          const event = podEvent(type, pod);
          if (event) for (const l of listeners) l(event);
        });
        await watcher.start();
      }
      return { c, res, watcher };
    })().catch((err: unknown) => {
      ready = null;
      throw err;
    });
    return ready;
  }

  const url = (names: InstanceNames): string => serviceUrlOf(opts, names);
  const volumes = createVolumeOps(async () => (await init()).c, opts, log);
  const rolloutTimeoutMs = opts.rolloutTimeoutMs ?? 10 * 60_000;

  /** Patches the gateway container's image when it is not `image` (a JSON patch that tests the container's name first); true when it did. */
  async function setImage(c: KubeClients, names: InstanceNames, sts: V1StatefulSet, image: string): Promise<boolean> {
    const containers = sts.spec?.template?.spec?.containers ?? [];
    const i = containers.findIndex((ct) => ct.name === 'gateway');
    if (i < 0 || containers[i]?.image === image) return false;
    const path = `/spec/template/spec/containers/${i}`;
    await c.apps
      .patchNamespacedStatefulSet({ name: names.statefulSet, namespace, body: [{ op: 'test', path: `${path}/name`, value: 'gateway' }, { op: 'replace', path: `${path}/image`, value: image }] })
      .catch((err: unknown) => {
        throw toAppError(err, 'change the image of the statefulset');
      });
    log.info('kubernetes image change', { statefulSet: names.statefulSet, image });
    return true;
  }

  /**
   * Waits until the StatefulSet rolled out: observed, every replica at the
   * update revision and ready. A pod of the old revision that is not ready
   * is deleted (the documented forced rollback: the controller waits for it forever).
   */
  async function waitRollout(c: KubeClients, res: InstanceResources, names: InstanceNames, instanceId: string): Promise<void> {
    const until = performance.now() + rolloutTimeoutMs;
    let forced = false;
    while (performance.now() < until) {
      const sts = await res.readStatefulSet(names);
      if (!sts) throw new AppError('NOT_FOUND', `kubernetes: statefulset ${names.statefulSet} disappeared during the rollout`);
      const st = sts.status;
      const observed = (st?.observedGeneration ?? 0) >= (sts.metadata?.generation ?? 0);
      if (observed && st?.updateRevision && st.currentRevision === st.updateRevision && (st.updatedReplicas ?? 0) >= 1 && (st.readyReplicas ?? 0) >= 1) return;
      if (observed && st?.updateRevision && !forced) {
        const pod = await res.readPod(names);
        if (pod && pod.metadata?.labels?.[REVISION_LABEL] !== st.updateRevision && !podReady(pod)) {
          forced = true;
          log.warn('kubernetes rollout: deleting the old revision\'s pod that is not ready', { instanceId });
          await res.killPod(names);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const status = await statusOf(instanceId).catch(() => null);
    const last = status?.lastLogLines?.at(-1);
    throw new AppError('TIMEOUT', `kubernetes: the rollout of ${instanceId} was not ready within ${Math.round(rolloutTimeoutMs / 1000)} s${last ? ` (${last})` : ''}`);
  }

  async function currentPod(names: InstanceNames): Promise<V1Pod | undefined> {
    const { res, watcher } = await init();
    if (watcher?.isSynced) return watcher.get(names.pod);
    return (await res.readPod(names)) ?? undefined;
  }

  /** Waits until `pred(pod)` holds (pod undefined = gone); false on timeout. Watch events when synced, else polling. */
  async function waitForPod(names: InstanceNames, pred: (pod: V1Pod | undefined) => boolean, timeoutMs: number): Promise<boolean> {
    const { watcher } = await init();
    if (pred(await currentPod(names))) return true;
    return new Promise<boolean>((resolve) => {
      let done = false;
      const finish = (ok: boolean): void => {
        if (done) return;
        done = true;
        waits.delete(finish);
        clearTimeout(timeout);
        clearInterval(poll);
        unsubscribe?.();
        resolve(ok);
      };
      waits.add(finish);
      const timeout = setTimeout(() => finish(false), timeoutMs);
      const unsubscribe = watcher?.onEvent((type, pod) => {
        if (pod.metadata?.name === names.pod && pred(type === 'DELETED' ? undefined : pod)) finish(true);
      });
      // A fallback for a watch that is reconnecting.
      const poll = setInterval(() => {
        currentPod(names).then((p) => (pred(p) ? finish(true) : undefined), () => undefined);
      }, watcher?.isSynced ? 1_000 : 250);
    });
  }

  const driver: KubernetesDriver = {
    kind: 'kubernetes',
    volumes,

    async init() {
      await init();
    },

    async provision(spec: InstanceSpec): Promise<InstanceRuntime> {
      const names = namesFor(spec.instanceId);
      const { res } = await init();
      await res.provision(names, spec);
      return { url: url(names) };
    },

    async start(spec: InstanceSpec): Promise<InstanceRuntime> {
      const names = namesFor(spec.instanceId);
      const { c, res } = await init();
      if (!(await res.readStatefulSet(names))) {
        log.warn('kubernetes instance has no statefulset; provisioning it again', { instanceId: spec.instanceId });
        return this.provision(spec);
      }
      await res.putDataKey(names, spec);
      // Another version: a rolling image change of the StatefulSet (at 1 replica the controller replaces the pod).
      const sts = await res.readStatefulSet(names);
      const rolling = sts ? await setImage(c, names, sts, imageOfSpec(opts.image, spec)) : false;
      if (!(await res.scale(names, 1))) throw new AppError('NOT_FOUND', `kubernetes: statefulset ${names.statefulSet} disappeared while starting`);
      if (rolling) await waitRollout(c, res, names, spec.instanceId);
      log.info('kubernetes instance started', { instanceId: spec.instanceId, version: spec.version });
      return { url: url(names) };
    },

    async stop(instanceId, stopOpts) {
      const names = namesFor(instanceId);
      const { res } = await init();
      if (!(await res.scale(names, 0))) return; // nothing left to stop
      const graceMs = stopOpts?.graceMs ?? DEFAULT_GRACE_MS;
      const gone = await waitForPod(names, (p) => p === undefined, graceMs);
      if (!gone) {
        log.warn('kubernetes pod still terminating after the grace period; deleting it now', { instanceId, graceMs });
        await res.killPod(names);
      }
      log.info('kubernetes instance stopped', { instanceId });
    },

    async destroy(instanceId) {
      const names = namesFor(instanceId);
      const { res } = await init();
      let deviceId: string | undefined;
      if (opts.tailscale?.removeDevice) {
        const state = await res.readStateSecret(names).catch(() => null);
        deviceId = state ? tailnetDeviceFrom(state)?.deviceId : undefined;
      }
      await res.deleteAll(names);
      await volumes.forget(names);
      if (deviceId && opts.tailscale?.removeDevice) {
        try {
          await opts.tailscale.removeDevice(deviceId);
        } catch (err) {
          log.warn('could not remove the instance from the tailnet', { instanceId, err });
        }
      }
      log.info('kubernetes instance destroyed', { instanceId });
    },

    async status(instanceId): Promise<KubernetesDriverStatus> {
      const names = namesFor(instanceId);
      const { res } = await init();
      const sts = await res.readStatefulSet(names);
      if (!sts) return { alive: false, runtime: null };
      let pod = await currentPod(names);
      // The cache may not have seen a pod that was just created: ask when one should exist.
      if (!pod && (sts.spec?.replicas ?? 1) > 0) pod = (await res.readPod(names)) ?? undefined;
      const cs = gatewayStatus(pod);
      const out: KubernetesDriverStatus = {
        alive: podAlive(pod),
        runtime: { url: url(names) },
        phase: pod ? (pod.status?.phase ?? 'Pending') : 'Absent',
        ready: podReady(pod),
        restarts: cs?.restartCount ?? 0,
      };
      const exitCode = lastExitCode(pod);
      if (exitCode !== undefined) out.exitCode = exitCode;
      const troubled = pod !== undefined && cs !== undefined && ((cs.restartCount ?? 0) > 0 || !cs.ready || pod.status?.phase === 'Failed');
      if (troubled) {
        const previous = Boolean(cs.lastState?.terminated);
        try {
          out.lastLogLines = await res.readLogs(names, previous, LOG_LINES);
        } catch (err) {
          log.debug?.('could not read the gateway log', { instanceId, err });
        }
      }
      return out;
    },

    async adopt(instanceId) {
      const names = namesFor(instanceId);
      const { res } = await init();
      const sts = await res.readStatefulSet(names);
      if (!sts) return null;
      if (sts.metadata?.annotations?.[ANNOTATION_INSTANCE_ID] !== instanceId) {
        log.warn('statefulset does not belong to this instance; not adopting it', { instanceId, statefulSet: names.statefulSet });
        return null;
      }
      if ((sts.spec?.replicas ?? 1) === 0) return null;
      return { url: url(names) };
    },

    onPodEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async waitForReady(instanceId, timeoutMs) {
      const names = namesFor(instanceId);
      if (!(await waitForPod(names, (p) => podReady(p), timeoutMs))) {
        throw new AppError('TIMEOUT', `kubernetes: instance ${instanceId} not ready within ${timeoutMs} ms`);
      }
    },

    async tailnetDevice(instanceId) {
      const { res } = await init();
      const secret = await res.readStateSecret(namesFor(instanceId));
      return secret ? tailnetDeviceFrom(secret) : null;
    },

    async close() {
      closed = true;
      for (const finish of [...waits]) finish(false);
      listeners.clear();
      const current = ready;
      ready = null;
      if (current) {
        const { watcher } = await current.catch(() => ({ watcher: null }));
        watcher?.stop();
      }
    },
  };
  function statusOf(id: string): Promise<KubernetesDriverStatus> {
    return driver.status(id);
  }
  return driver;
}
