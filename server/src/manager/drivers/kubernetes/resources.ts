/**
 * The API calls behind the driver, one object kind at a time, each
 * idempotent: create, and on 409 AlreadyExists patch to the desired state
 * (a JSON merge patch) or keep what is there; deletes treat 404 as done.
 */
import type { V1Pod, V1Secret, V1StatefulSet } from '@kubernetes/client-node';
import type { InstanceSpec } from '../types';
import { isAlreadyExists, isNotFound, toAppError, type KubeClients } from './k8s-api';
import { networkPolicyManifest, serviceManifest, sidecarServeConfigJson, statefulSetManifest } from './manifests';
import type { DriverLogger, InstanceNames, KubernetesDriverOptions } from './options';
import { roleBindingManifest, roleManifest, serviceAccountManifest } from './rbac';
import { dataKeySecretManifest, tailscaleAuthSecretManifest, tailscaleStateSecretManifest } from './secrets';

export interface InstanceResources {
  /** Creates or converges every object of the instance, the StatefulSet at 1 replica. */
  provision(names: InstanceNames, spec: InstanceSpec): Promise<void>;
  putDataKey(names: InstanceNames, spec: InstanceSpec): Promise<void>;
  /** Sets the replica count through the scale subresource; false when the StatefulSet is gone. */
  scale(names: InstanceNames, replicas: 0 | 1): Promise<boolean>;
  readStatefulSet(names: InstanceNames): Promise<V1StatefulSet | null>;
  readPod(names: InstanceNames): Promise<V1Pod | null>;
  /** Deletes the pod with grace 0 (the forced end of a stop). */
  killPod(names: InstanceNames): Promise<void>;
  readLogs(names: InstanceNames, previous: boolean, lines: number): Promise<string[]>;
  readStateSecret(names: InstanceNames): Promise<V1Secret | null>;
  deleteAll(names: InstanceNames): Promise<void>;
}

async function orNull<T>(what: string, fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (err) {
    if (isNotFound(err)) return null;
    throw toAppError(err, what);
  }
}

export function createInstanceResources(c: KubeClients, opts: KubernetesDriverOptions, log: DriverLogger): InstanceResources {
  const namespace = opts.namespace;

  /** Creates; on AlreadyExists runs `existing` (patch, or nothing). Returns whether it created. */
  async function createOr(what: string, create: () => Promise<unknown>, existing?: () => Promise<unknown>): Promise<boolean> {
    try {
      await create();
      return true;
    } catch (err) {
      if (!isAlreadyExists(err)) throw toAppError(err, `create ${what}`);
    }
    if (existing) {
      try {
        await existing();
      } catch (err) {
        throw toAppError(err, `update ${what}`);
      }
    }
    return false;
  }

  async function remove(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (!isNotFound(err)) throw toAppError(err, `delete ${what}`);
    }
  }

  const patchOpts = c.mergePatch;

  async function putDataKey(names: InstanceNames, spec: InstanceSpec): Promise<void> {
    const body = dataKeySecretManifest(names, spec.instanceId, spec.dataKey);
    await createOr('data key secret', () => c.core.createNamespacedSecret({ namespace, body }), () =>
      c.core.patchNamespacedSecret({ name: names.dataKeySecret, namespace, body: { data: body.data } }, patchOpts),
    );
  }

  return {
    putDataKey,

    async provision(names, spec) {
      const id = spec.instanceId;
      if (opts.tailscale) {
        await createOr('service account', () => c.core.createNamespacedServiceAccount({ namespace, body: serviceAccountManifest(names, id) }));
        const role = roleManifest(names, id);
        await createOr('role', () => c.rbac.createNamespacedRole({ namespace, body: role }), () =>
          c.rbac.patchNamespacedRole({ name: names.role, namespace, body: { rules: role.rules } }, patchOpts),
        );
        await createOr('role binding', () => c.rbac.createNamespacedRoleBinding({ namespace, body: roleBindingManifest(names, id, namespace) }));
        await createOr('tailscale state secret', () => c.core.createNamespacedSecret({ namespace, body: tailscaleStateSecretManifest(names, id) }));
        const authSecret = await orNull('read tailscale auth secret', () => c.core.readNamespacedSecret({ name: names.tailscaleAuthSecret, namespace }));
        if (!authSecret) {
          // Minted once: a re-provision keeps the key (and the node state) it already has.
          const key = await opts.tailscale.authKey(id);
          await createOr('tailscale auth secret', () =>
            c.core.createNamespacedSecret({ namespace, body: tailscaleAuthSecretManifest(names, id, key, sidecarServeConfigJson(opts)) }),
          );
        }
      }
      await putDataKey(names, spec);
      const service = serviceManifest(opts, names, id);
      await createOr('service', () => c.core.createNamespacedService({ namespace, body: service }), () =>
        c.core.patchNamespacedService({ name: names.service, namespace, body: { metadata: { labels: service.metadata?.labels }, spec: { ports: service.spec?.ports, selector: service.spec?.selector } } }, patchOpts),
      );
      const policy = networkPolicyManifest(opts, names, id);
      if (policy) {
        await createOr('network policy', () => c.net.createNamespacedNetworkPolicy({ namespace, body: policy }), () =>
          // A patch body is sent as is: spell the wire name `from` (the typed model calls it `_from`).
          c.net.patchNamespacedNetworkPolicy(
            { name: names.networkPolicy, namespace, body: { spec: { ...policy.spec, ingress: policy.spec?.ingress?.map(({ _from, ...rule }) => ({ ...rule, from: _from })) } } },
            patchOpts,
          ),
        );
      }
      const sts = statefulSetManifest(opts, names, spec, 1);
      const created = await createOr('statefulset', () => c.apps.createNamespacedStatefulSet({ namespace, body: sts }), () =>
        // selector, serviceName and volumeClaimTemplates are immutable: converge only what may change.
        c.apps.patchNamespacedStatefulSet(
          { name: names.statefulSet, namespace, body: { metadata: { labels: sts.metadata?.labels, annotations: sts.metadata?.annotations }, spec: { replicas: 1, template: sts.spec?.template } } },
          patchOpts,
        ),
      );
      log.info('kubernetes instance provisioned', { instanceId: id, statefulSet: names.statefulSet, adopted: !created });
    },

    async scale(names, replicas) {
      try {
        await c.apps.patchNamespacedStatefulSetScale({ name: names.statefulSet, namespace, body: { spec: { replicas } } }, patchOpts);
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw toAppError(err, `scale statefulset to ${replicas}`);
      }
    },

    readStatefulSet: (names) => orNull('read statefulset', () => c.apps.readNamespacedStatefulSet({ name: names.statefulSet, namespace })),
    readPod: (names) => orNull('read pod', () => c.core.readNamespacedPod({ name: names.pod, namespace })),
    readStateSecret: (names) => orNull('read tailscale state secret', () => c.core.readNamespacedSecret({ name: names.tailscaleStateSecret, namespace })),

    async killPod(names) {
      await remove('pod', () => c.core.deleteNamespacedPod({ name: names.pod, namespace, gracePeriodSeconds: 0 }));
    },

    async readLogs(names, previous, lines) {
      const text = await c.core.readNamespacedPodLog({ name: names.pod, namespace, container: 'gateway', tailLines: lines, previous });
      return String(text).split('\n').filter((l, i, all) => l !== '' || i < all.length - 1).slice(-lines);
    },

    async deleteAll(names) {
      await remove('statefulset', () => c.apps.deleteNamespacedStatefulSet({ name: names.statefulSet, namespace, propagationPolicy: 'Background' }));
      await remove('pod', () => c.core.deleteNamespacedPod({ name: names.pod, namespace, gracePeriodSeconds: 0 }));
      await remove('service', () => c.core.deleteNamespacedService({ name: names.service, namespace }));
      if (opts.managerPodLabels) await remove('network policy', () => c.net.deleteNamespacedNetworkPolicy({ name: names.networkPolicy, namespace }));
      for (const name of [names.dataKeySecret, names.tailscaleAuthSecret, names.tailscaleStateSecret]) {
        await remove('secret', () => c.core.deleteNamespacedSecret({ name, namespace }));
      }
      await remove('volume claim', () => c.core.deleteNamespacedPersistentVolumeClaim({ name: names.pvc, namespace }));
      await remove('role binding', () => c.rbac.deleteNamespacedRoleBinding({ name: names.roleBinding, namespace }));
      await remove('role', () => c.rbac.deleteNamespacedRole({ name: names.role, namespace }));
      await remove('service account', () => c.core.deleteNamespacedServiceAccount({ name: names.serviceAccount, namespace }));
    },
  };
}
