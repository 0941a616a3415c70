/**
 * RBAC, both sides.
 *
 * Per instance (with Tailscale) the driver creates a ServiceAccount, a Role
 * and a RoleBinding so that the sidecar — and only it: the pod does not
 * automount the token, the sidecar alone mounts a projected one — can read
 * and write its own state Secret (TS_KUBE_SECRET; the driver creates it
 * empty so `create` on secrets is not needed) and record events, as
 * tailscale's docs/k8s/role.yaml asks.
 *
 * The manager's own service account needs the Role from `managerRbacRules()`
 * in the instances' namespace (apply it once, e.g. from your deployment
 * manifests). Kubernetes only lets it grant what it holds itself, which is
 * why the secret and event verbs of the sidecar's Role appear there too.
 */
import type { V1PolicyRule, V1Role, V1RoleBinding, V1ServiceAccount } from '@kubernetes/client-node';
import { metadataFor } from './manifests';
import type { InstanceNames } from './options';

export function sidecarRoleRules(names: InstanceNames): V1PolicyRule[] {
  return [
    { apiGroups: [''], resources: ['secrets'], resourceNames: [names.tailscaleStateSecret], verbs: ['get', 'update', 'patch'] },
    { apiGroups: [''], resources: ['events'], verbs: ['get', 'create', 'patch'] },
  ];
}

export function serviceAccountManifest(names: InstanceNames, instanceId: string): V1ServiceAccount {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: metadataFor(names, instanceId, names.serviceAccount), automountServiceAccountToken: false };
}

export function roleManifest(names: InstanceNames, instanceId: string): V1Role {
  return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: metadataFor(names, instanceId, names.role), rules: sidecarRoleRules(names) };
}

export function roleBindingManifest(names: InstanceNames, instanceId: string, namespace: string): V1RoleBinding {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: metadataFor(names, instanceId, names.roleBinding),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: names.role },
    subjects: [{ kind: 'ServiceAccount', name: names.serviceAccount, namespace }],
  };
}

/** What the manager's service account must be allowed in the instances' namespace. */
export function managerRbacRules(): V1PolicyRule[] {
  const crud = ['get', 'list', 'create', 'patch', 'update', 'delete'];
  return [
    { apiGroups: ['apps'], resources: ['statefulsets'], verbs: [...crud, 'watch'] },
    { apiGroups: ['apps'], resources: ['statefulsets/scale'], verbs: ['get', 'patch', 'update'] },
    { apiGroups: [''], resources: ['services', 'secrets', 'serviceaccounts', 'persistentvolumeclaims'], verbs: crud },
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'delete'] },
    { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
    { apiGroups: [''], resources: ['events'], verbs: ['get', 'create', 'patch'] },
    { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: ['get', 'create', 'patch', 'delete'] },
    { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'create', 'patch', 'delete'] },
    // Backups, restores and trial clones: Jobs on an instance's volume, and VolumeSnapshots where the cluster has them.
    { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'create', 'delete'] },
    { apiGroups: ['snapshot.storage.k8s.io'], resources: ['volumesnapshots'], verbs: ['get', 'create', 'delete'] },
  ];
}

/** A ready-to-apply Role + RoleBinding for the manager's service account. */
export function managerRbacManifests(namespace: string, serviceAccount: string, serviceAccountNamespace = namespace): [V1Role, V1RoleBinding] {
  return [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'autoclaw-manager', namespace }, rules: managerRbacRules() },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'autoclaw-manager', namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'autoclaw-manager' },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace: serviceAccountNamespace }],
    },
  ];
}
