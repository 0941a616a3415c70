/**
 * The objects of one instance, as plain data:
 * * a StatefulSet (1 replica; 0 when stopped) with a `data` volume claim, the
 *   gateway container (non-root, read-only root fs, probes on /healthz and
 *   /readyz) and, with Tailscale, a sidecar in userspace mode that joins with
 *   the auth key from a Secret, keeps its state in another Secret
 *   (TS_KUBE_SECRET) and serves HTTPS on its MagicDNS name → the gateway on
 *   loopback (TS_SERVE_CONFIG);
 * * a headless Service (the StatefulSet's governing service; the manager
 *   probes and drives the gateway through it);
 * * the data-key Secret, mounted read-only on a tmpfs at DATA_KEY_DIR, never
 *   on the data volume: the gateway reads it with `--data-key-file`;
 * * optionally a NetworkPolicy that admits only the manager's pods.
 * Secrets and RBAC are in secrets.ts and rbac.ts.
 */
import type { V1NetworkPolicy, V1Service, V1StatefulSet, V1Container, V1Volume } from '@kubernetes/client-node';
import { sidecarServeConfig } from '../../../tailscale';
import type { InstanceSpec } from '../types';
import {
  ANNOTATION_INSTANCE_ID,
  DEFAULT_GATEWAY_PORT,
  DEFAULT_TAILSCALE_IMAGE,
  LABEL_INSTANCE,
  LABEL_INSTANCE_ID,
  LABEL_MANAGED_BY,
  LABEL_NAME,
  MANAGED_BY,
  defaultGatewayArgs,
  imageOfSpec,
  type GatewayPaths,
  type InstanceNames,
  type KubernetesDriverOptions,
} from './options';

export const DATA_DIR = '/data';
export const DATA_KEY_DIR = '/run/autoclaw/data-key';
export const DATA_KEY_FILE = `${DATA_KEY_DIR}/data-key`;
export const TAILSCALE_SOCKET_DIR = '/var/run/tailscale';
export const TAILSCALE_SOCKET = `${TAILSCALE_SOCKET_DIR}/tailscaled.sock`;
export const SERVE_CONFIG_DIR = '/etc/tailscale-serve';
export const SERVE_CONFIG_KEY = 'serve-config.json';
export const AUTHKEY_KEY = 'authkey';
export const DATA_KEY_KEY = 'data-key';
const TAILSCALE_UID = 1000;

export function labelsFor(names: InstanceNames): Record<string, string> {
  return { [LABEL_NAME]: 'autoclaw-gateway', [LABEL_INSTANCE]: names.base, [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_INSTANCE_ID]: names.idLabel };
}

export function metadataFor(names: InstanceNames, instanceId: string, name: string): { name: string; labels: Record<string, string>; annotations: Record<string, string> } {
  return { name, labels: labelsFor(names), annotations: { [ANNOTATION_INSTANCE_ID]: instanceId } };
}

export function gatewayPort(opts: KubernetesDriverOptions): number {
  return opts.gatewayPort ?? DEFAULT_GATEWAY_PORT;
}

/** How the manager reaches an instance's gateway (default through its headless Service). */
export function serviceUrlOf(opts: KubernetesDriverOptions, names: InstanceNames): string {
  return (opts.serviceUrl ?? ((svc, ns, port) => `http://${svc}.${ns}.svc:${port}`))(names.service, opts.namespace, gatewayPort(opts));
}

function memoryLimit(opts: KubernetesDriverOptions, spec: InstanceSpec): string {
  return opts.memory.limit ?? `${Math.ceil(spec.memoryLimitMb * 1.25)}Mi`;
}

function gatewayContainer(opts: KubernetesDriverOptions, names: InstanceNames, spec: InstanceSpec): V1Container {
  const port = gatewayPort(opts);
  // The gateway answers to the name the manager reaches it by (its Host check refuses others).
  const serviceHost = new URL(serviceUrlOf(opts, names)).host;
  const paths: GatewayPaths = { dataDir: DATA_DIR, dataKeyFile: DATA_KEY_FILE, port, tailscaleSocket: TAILSCALE_SOCKET, serviceHost };
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: 'http' },
    periodSeconds,
    timeoutSeconds: 2,
    failureThreshold,
  });
  return {
    name: 'gateway',
    image: imageOfSpec(opts.image, spec),
    ...(opts.imagePullPolicy ? { imagePullPolicy: opts.imagePullPolicy } : {}),
    args: (opts.gatewayArgs ?? defaultGatewayArgs)(spec, paths),
    env: [
      ...Object.entries(spec.env).map(([name, value]) => ({ name, value })),
      ...(opts.tailscale ? [{ name: 'AUTOCLAW_TAILSCALE_SOCKET', value: TAILSCALE_SOCKET }] : []),
    ],
    ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
    resources: {
      requests: { cpu: opts.cpu.request, memory: opts.memory.request },
      limits: { ...(opts.cpu.limit ? { cpu: opts.cpu.limit } : {}), memory: memoryLimit(opts, spec) },
    },
    startupProbe: probe('/healthz', 2, 30),
    livenessProbe: probe('/healthz', 10, 3),
    readinessProbe: probe('/readyz', 5, 2),
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
    volumeMounts: [
      { name: 'data', mountPath: DATA_DIR },
      { name: 'data-key', mountPath: DATA_KEY_DIR, readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
      ...(opts.tailscale ? [{ name: 'tailscale-socket', mountPath: TAILSCALE_SOCKET_DIR, readOnly: true }] : []),
    ],
  };
}

export function tailscaleHostname(opts: KubernetesDriverOptions, names: InstanceNames, instanceId: string): string {
  const custom = opts.tailscale?.hostname?.(instanceId);
  return (custom ?? `autoclaw-${names.idLabel.slice(0, 12)}`).toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63);
}

function tailscaleContainer(opts: KubernetesDriverOptions, names: InstanceNames, instanceId: string): V1Container {
  const ts = opts.tailscale;
  if (!ts) throw new Error('tailscale options missing');
  const env = (name: string, value: string) => ({ name, value });
  return {
    name: 'tailscale',
    image: ts.image ?? DEFAULT_TAILSCALE_IMAGE,
    env: [
      env('TS_USERSPACE', 'true'),
      env('TS_KUBE_SECRET', names.tailscaleStateSecret),
      env('TS_AUTH_ONCE', 'true'),
      { name: 'TS_AUTHKEY', valueFrom: { secretKeyRef: { name: names.tailscaleAuthSecret, key: AUTHKEY_KEY } } },
      env('TS_HOSTNAME', tailscaleHostname(opts, names, instanceId)),
      env('TS_EXTRA_ARGS', `--advertise-tags=${ts.tags.join(',')}`),
      env('TS_SERVE_CONFIG', `${SERVE_CONFIG_DIR}/${SERVE_CONFIG_KEY}`),
      env('TS_SOCKET', TAILSCALE_SOCKET),
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
    ],
    resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
    securityContext: {
      runAsUser: TAILSCALE_UID,
      runAsGroup: TAILSCALE_UID,
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [
      { name: 'tailscale-socket', mountPath: TAILSCALE_SOCKET_DIR },
      { name: 'tailscale-serve', mountPath: SERVE_CONFIG_DIR, readOnly: true },
      { name: 'tailscale-tmp', mountPath: '/tmp' },
      // Only the sidecar gets an API token (automount is off for the pod): it writes its state Secret.
      { name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
    ],
  };
}

function volumes(opts: KubernetesDriverOptions, names: InstanceNames): V1Volume[] {
  const out: V1Volume[] = [
    { name: 'data-key', secret: { secretName: names.dataKeySecret, defaultMode: 0o440, items: [{ key: DATA_KEY_KEY, path: DATA_KEY_KEY }] } },
    { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
  ];
  if (opts.tailscale) {
    out.push(
      { name: 'tailscale-socket', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
      { name: 'tailscale-tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
      { name: 'tailscale-serve', secret: { secretName: names.tailscaleAuthSecret, defaultMode: 0o440, items: [{ key: SERVE_CONFIG_KEY, path: SERVE_CONFIG_KEY }] } },
      {
        name: 'kube-api-access',
        projected: {
          defaultMode: 0o444,
          sources: [
            { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
          ],
        },
      },
    );
  }
  return out;
}

export function statefulSetManifest(opts: KubernetesDriverOptions, names: InstanceNames, spec: InstanceSpec, replicas: 0 | 1): V1StatefulSet {
  const uid = opts.runAsUser ?? 10001;
  const labels = labelsFor(names);
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: metadataFor(names, spec.instanceId, names.statefulSet),
    spec: {
      replicas,
      serviceName: names.service,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: { [LABEL_INSTANCE]: names.base, [LABEL_MANAGED_BY]: MANAGED_BY } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      template: {
        metadata: { labels, annotations: { [ANNOTATION_INSTANCE_ID]: spec.instanceId } },
        spec: {
          ...(opts.tailscale ? { serviceAccountName: names.serviceAccount } : {}),
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 30,
          securityContext: { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [gatewayContainer(opts, names, spec), ...(opts.tailscale ? [tailscaleContainer(opts, names, spec.instanceId)] : [])],
          volumes: volumes(opts, names),
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data', labels },
          spec: {
            accessModes: ['ReadWriteOnce'],
            ...(opts.storageClass ? { storageClassName: opts.storageClass } : {}),
            resources: { requests: { storage: opts.storageSize } },
          },
        },
      ],
    },
  };
}

export function serviceManifest(opts: KubernetesDriverOptions, names: InstanceNames, instanceId: string): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadataFor(names, instanceId, names.service),
    spec: {
      clusterIP: 'None',
      // The supervisor probes /readyz of a pod that is not ready yet.
      publishNotReadyAddresses: true,
      selector: { [LABEL_INSTANCE]: names.base, [LABEL_MANAGED_BY]: MANAGED_BY },
      ports: [{ name: 'http', port: gatewayPort(opts), targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

export function networkPolicyManifest(opts: KubernetesDriverOptions, names: InstanceNames, instanceId: string): V1NetworkPolicy | null {
  if (!opts.managerPodLabels) return null;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: metadataFor(names, instanceId, names.networkPolicy),
    spec: {
      podSelector: { matchLabels: { [LABEL_INSTANCE]: names.base, [LABEL_MANAGED_BY]: MANAGED_BY } },
      policyTypes: ['Ingress'],
      ingress: [{ _from: [{ podSelector: { matchLabels: opts.managerPodLabels } }], ports: [{ port: gatewayPort(opts), protocol: 'TCP' }] }],
    },
  };
}

/** The serve config file the sidecar applies (HTTPS 443 on its MagicDNS name → gateway on loopback). */
export function sidecarServeConfigJson(opts: KubernetesDriverOptions): string {
  return JSON.stringify(sidecarServeConfig(gatewayPort(opts)));
}
