/**
 * The Kubernetes API server's shapes for the test API server: objects and
 * their metadata, the resources it serves, and Status errors (404/409 bodies
 * worded as the real server words them).
 */
import { createHash } from 'node:crypto';

export interface K8sMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<Record<string, unknown>>;
}
export interface K8sObject {
  apiVersion?: string;
  kind?: string;
  metadata: K8sMeta;
  [field: string]: unknown;
}

export const RESOURCES: Record<string, { group: string; version: string; kind: string }> = {
  statefulsets: { group: 'apps', version: 'v1', kind: 'StatefulSet' },
  services: { group: '', version: 'v1', kind: 'Service' },
  secrets: { group: '', version: 'v1', kind: 'Secret' },
  configmaps: { group: '', version: 'v1', kind: 'ConfigMap' },
  persistentvolumeclaims: { group: '', version: 'v1', kind: 'PersistentVolumeClaim' },
  pods: { group: '', version: 'v1', kind: 'Pod' },
  serviceaccounts: { group: '', version: 'v1', kind: 'ServiceAccount' },
  roles: { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role' },
  rolebindings: { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding' },
  networkpolicies: { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' },
  jobs: { group: 'batch', version: 'v1', kind: 'Job' },
  volumesnapshots: { group: 'snapshot.storage.k8s.io', version: 'v1', kind: 'VolumeSnapshot' },
};

/** The StatefulSet controller's revision of a pod template (the `controller-revision-hash` label). */
export const revisionOf = (stsName: string, template: unknown): string => `${stsName}-${createHash('sha256').update(JSON.stringify(template ?? {})).digest('hex').slice(0, 10)}`;
export const REVISION_LABEL = 'controller-revision-hash';

/** A failure the HTTP layer turns into a `kind: Status` body. */
export class K8sStatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
  toStatus(): Record<string, unknown> {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, ...(this.details ? { details: this.details } : {}), code: this.code };
  }
}

export function qualified(resource: string): string {
  const g = RESOURCES[resource]?.group ?? '';
  return g === '' ? resource : `${resource}.${g}`;
}
export const notFound = (resource: string, name: string) =>
  new K8sStatusError(404, 'NotFound', `${qualified(resource)} "${name}" not found`, { name, group: RESOURCES[resource]?.group ?? '', kind: resource });
export const conflict = (resource: string, name: string) =>
  new K8sStatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(resource)} "${name}": the object has been modified; please apply your changes to the latest version and try again`, {
    name,
    group: RESOURCES[resource]?.group ?? '',
    kind: resource,
  });

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface StoreWatcher {
  resource: string;
  namespace: string;
  matches(obj: K8sObject): boolean;
  push(type: WatchEventType, obj: K8sObject): void;
}

