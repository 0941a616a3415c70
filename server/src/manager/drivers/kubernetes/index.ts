/**
 * The Kubernetes driver's door. `createKubernetesDriver(options)` returns an
 * InstanceDriver (plus pod events, waitForReady and the tailnet device); the
 * client library loads on first use. RBAC the manager needs:
 * `managerRbacRules()` / `managerRbacManifests()`.
 */
export { createKubernetesDriver } from './driver';
export type { KubernetesDriver, KubernetesDriverStatus } from './driver';
export type { KubernetesDriverOptions, KubernetesTailscaleOptions, DriverLogger, GatewayPaths, InstanceNames } from './options';
export { defaultGatewayArgs, namesFor, DEFAULT_GATEWAY_PORT, DEFAULT_TAILSCALE_IMAGE } from './options';
export type { InstancePodEvent } from './pod-state';
export type { TailnetDevice } from './secrets';
export { managerRbacRules, managerRbacManifests, sidecarRoleRules } from './rbac';
export { statefulSetManifest, serviceManifest, networkPolicyManifest, DATA_KEY_FILE, TAILSCALE_SOCKET } from './manifests';
export { loadKubernetesMasterKey, MASTER_KEY_SECRET } from './master-key';
export type { KubernetesMasterKeyOptions } from './master-key';
