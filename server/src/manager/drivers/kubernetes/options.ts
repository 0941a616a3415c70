/**
 * The Kubernetes driver's configuration and the names it gives an instance's
 * objects. Validated once when the driver is made; a bad value is a
 * BAD_REQUEST that names the option.
 */
import { createHash } from 'node:crypto';
import { AppError } from '@autoclaw/shared';
import type { InstanceSpec } from '../types';

export interface DriverLogger {
  debug?(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface KubernetesTailscaleOptions {
  /** Mints (or returns a pasted) auth key for an instance's sidecar. Called once per instance, at provisioning. */
  authKey: (instanceId: string) => Promise<string>;
  /** Tags the sidecar advertises, e.g. ["tag:autoclaw"]; they must be allowed for the key. */
  tags: string[];
  /** Sidecar image (default `tailscale/tailscale:stable`). */
  image?: string;
  /** Tailnet host name of an instance (default `autoclaw-<first 12 chars of the id>`). */
  hostname?: (instanceId: string) => string;
  /** Called at destroy with the sidecar's device id (read from its state Secret), e.g. to delete it through the Tailscale API. */
  removeDevice?: (deviceId: string) => Promise<void>;
}

export interface KubernetesDriverOptions {
  /** A kubeconfig file; without it (and with `inCluster`) the pod's service account is used. */
  kubeconfigPath?: string;
  inCluster?: boolean;
  /** Kubeconfig context (default: its current-context). */
  context?: string;
  namespace: string;
  /** Gateway image repository; the tag is the instance's `version` (an image with `@sha256:` is used as is). */
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  storageClass?: string;
  /** Size of each instance's volume, e.g. `1Gi`. */
  storageSize: string;
  cpu: { request: string; limit?: string };
  /** The memory limit defaults to the instance's `memoryLimitMb` plus 25 % (the supervisor restarts gracefully before). */
  memory: { request: string; limit?: string };
  /** Gateway port inside the pod (default 18789). */
  gatewayPort?: number;
  /** UID/GID the gateway runs as (default 10001). */
  runAsUser?: number;
  tailscale?: KubernetesTailscaleOptions;
  /** Labels of the manager's pods: when given, a NetworkPolicy lets only them reach the gateway port. */
  managerPodLabels?: Record<string, string>;
  /** How the manager reaches a gateway (default `http://NAME.NAMESPACE.svc:PORT` through the headless Service). */
  serviceUrl?: (serviceName: string, namespace: string, port: number) => string;
  /** The gateway's argv (default: see `defaultGatewayArgs`). */
  gatewayArgs?: (spec: InstanceSpec, paths: GatewayPaths) => string[];
  /** Keep a watch on the instances' pods (default true); status() then reads the cache. */
  watch?: boolean;
  /** Backoff of the pod watch after failures (default 250 ms doubling to 10 s). */
  watchBackoff?: { initialMs: number; maxMs: number };
  logger?: DriverLogger;
  /** VolumeSnapshotClass of trial clones (default: the cluster's default class). */
  snapshotClass?: string;
  /** How long a volume Job (backup, restore, copy) may run (default 30 min), and how often it is looked at (default 500 ms). */
  jobTimeoutMs?: number;
  jobPollMs?: number;
  /** How long a rolling image change may take to be ready (default 10 min). */
  rolloutTimeoutMs?: number;
}

export interface GatewayPaths {
  dataDir: string;
  dataKeyFile: string;
  port: number;
  tailscaleSocket: string;
  /** `NAME.NAMESPACE.svc:PORT`: the Host the manager reaches the gateway by. */
  serviceHost: string;
}

export const DEFAULT_GATEWAY_PORT = 18789;
export const DEFAULT_TAILSCALE_IMAGE = 'tailscale/tailscale:stable';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_INSTANCE_ID = 'autoclaw.dev/instance';
export const ANNOTATION_INSTANCE_ID = 'autoclaw.dev/instance-id';
export const MANAGED_BY = 'autoclaw';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;

function bad(option: string, why: string): AppError {
  return new AppError('BAD_REQUEST', `kubernetes driver: ${option} ${why}`);
}

export function validateOptions(opts: KubernetesDriverOptions): void {
  if (!opts.kubeconfigPath && !opts.inCluster) throw bad('kubeconfigPath', 'or inCluster is required');
  if (!DNS_LABEL.test(opts.namespace)) throw bad('namespace', `"${opts.namespace.slice(0, 70)}" is not a DNS label`);
  if (opts.image.trim() === '' || /\s/.test(opts.image)) throw bad('image', 'must be an image reference without spaces');
  if (!QUANTITY.test(opts.storageSize)) throw bad('storageSize', `"${opts.storageSize.slice(0, 20)}" is not a quantity like 1Gi`);
  for (const [name, q] of [
    ['cpu.request', opts.cpu.request],
    ['cpu.limit', opts.cpu.limit],
    ['memory.request', opts.memory.request],
    ['memory.limit', opts.memory.limit],
  ] as const) {
    if (q !== undefined && !QUANTITY.test(q)) throw bad(name, `"${q.slice(0, 20)}" is not a quantity`);
  }
  if (opts.storageClass !== undefined && !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(opts.storageClass)) throw bad('storageClass', 'is not a valid name');
  if (opts.tailscale) {
    if (opts.tailscale.tags.length === 0) throw bad('tailscale.tags', 'needs at least one tag (keys minted by an OAuth client must carry tags)');
    for (const t of opts.tailscale.tags) if (!/^tag:[A-Za-z0-9][A-Za-z0-9-]*$/.test(t)) throw bad('tailscale.tags', `"${t.slice(0, 40)}" is not like tag:autoclaw`);
  }
}

/** The names of an instance's objects; DNS-safe, ≤ 52 chars for the StatefulSet (its pods' hash label must fit 63). */
export interface InstanceNames {
  base: string;
  statefulSet: string;
  service: string;
  pod: string;
  pvc: string;
  dataKeySecret: string;
  tailscaleAuthSecret: string;
  tailscaleStateSecret: string;
  serviceAccount: string;
  role: string;
  roleBinding: string;
  networkPolicy: string;
  /** Label-safe form of the instance id. */
  idLabel: string;
}

export function namesFor(instanceId: string): InstanceNames {
  if (instanceId.length === 0 || instanceId.length > 200) throw new AppError('BAD_REQUEST', 'instance id must be 1–200 characters');
  const slug = instanceId.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  const exact = slug === instanceId && slug.length > 0 && slug.length <= 36;
  const hash = createHash('sha256').update(instanceId).digest('hex').slice(0, 8);
  const base = exact ? `autoclaw-${slug}` : `autoclaw-${slug.slice(0, 30).replace(/-+$/, '')}${slug ? '-' : ''}${hash}`;
  return {
    base,
    statefulSet: base,
    service: base,
    pod: `${base}-0`,
    pvc: `data-${base}-0`,
    dataKeySecret: `${base}-datakey`,
    tailscaleAuthSecret: `${base}-ts-auth`,
    tailscaleStateSecret: `${base}-ts-state`,
    serviceAccount: base,
    role: `${base}-tailscale`,
    roleBinding: `${base}-tailscale`,
    networkPolicy: base,
    idLabel: exact ? slug : `${slug.slice(0, 50).replace(/-+$/, '')}${slug ? '-' : ''}${hash}`,
  };
}

export function imageFor(image: string, version: string): string {
  if (image.includes('@sha256:')) return image;
  const lastSlash = image.lastIndexOf('/');
  const hasTag = image.slice(lastSlash + 1).includes(':');
  return hasTag ? image : `${image}:${version}`;
}

/** The image a spec runs: its release's pinned one, else the driver's image at the spec's version. */
export function imageOfSpec(image: string, spec: Pick<InstanceSpec, 'image' | 'version'>): string {
  return spec.image ?? imageFor(image, spec.version);
}

export function defaultGatewayArgs(spec: InstanceSpec, paths: GatewayPaths): string[] {
  return [
    'gateway',
    '--data', paths.dataDir,
    '--host', '0.0.0.0',
    '--port', String(paths.port),
    '--instance-id', spec.instanceId,
    // `=`: a base64url key may start with '-', which parseArgs would take for a flag.
    `--manager-key=${spec.managerPublicKey}`,
    '--data-key-file', paths.dataKeyFile,
    '--allow-host', paths.serviceHost,
    ...spec.allowedOrigins.flatMap((o) => ['--allow-origin', o]),
    // The sidecar's LocalAPI socket reaches the gateway as AUTOCLAW_TAILSCALE_SOCKET.
    ...(spec.tailscale ? ['--tailscale-owner', spec.tailscale.ownerLogin] : []),
  ];
}
