/**
 * The manager's door. Light on purpose: config parsing, the runtime file,
 * the operator client, keys and the audit log are cheap; the server itself
 * (fastify, ws, tRPC) loads only when `startManager` is called.
 */
import type { ManagerConfig } from './config';
import type { ManagerOptions, RunningManager } from './server';

export { parseManagerConfig, parseOperatorConfig, parseDatabase, DATABASE_URL_ENV, DEFAULT_MANAGER_PORT, DEFAULT_MANAGER_HOST, DESKTOP_APP_ORIGIN, DRIVER_KINDS, MASTER_KEY_STORES } from './config';
export type { ManagerConfig, OperatorConfig, DriverKind, KubernetesFlags, MasterKeyStore } from './config';
export { openManagerDb, migratePart, dumpTables } from './db';
export type { DatabaseTarget, ManagerDb } from './db';
export { openCluster, createLeases, openLeases, createReplicas, createLeadership, DEFAULT_CLUSTER_TIMINGS, LEADER_LEASE } from './cluster';
export type { Cluster, ClusterTimings, Lease, Leases, Leadership } from './cluster';
export {
  loadManagerKeys,
  loadOrCreateSigningKey,
  managerPublicKey,
  masterKeySourceOf,
  readManagerPublicKey,
  signWithManagerKey,
  verifyManagerSignature,
  wrapDataKey,
  unwrapDataKey,
} from './keys';
export type { ManagerKeys } from './keys';
export { openOsKeychain } from './keychain';
export type { SecretKeychain } from './keychain';
export { openAuditLog, verifyAudit, verifyAuditFiles, anchorStoreFor } from './audit';
export type { AuditAppend, AuditLog, AuditAnchorStore } from './audit';
export { createAccountService } from './accounts';
export type { AccountService, SignedIn } from './accounts';
export { findRunningManager, readManagerRuntime } from './runtime-file';
export type { ManagerRuntimeInfo } from './runtime-file';
export { findLiveManager, managerAnswers, operatorClient } from './operator-client';
export type { OperatorClient } from './operator-client';
export { auditHeadPath, managerDbPath, managerKeyPath, masterKeyPath, operatorKeyPath, managerRuntimePath } from './paths';
export type { ManagerRouter } from './router-type';
export type { ManagerOptions, RunningManager } from './server';
export type { ManagerServices, ManagerContext } from './trpc';

export async function startManager(config: ManagerConfig, options?: ManagerOptions): Promise<RunningManager> {
  const server = await import('./server');
  return server.startManager(config, options);
}
export { openOfflineManager } from './offline';
export type { OfflineManager, OfflineOptions } from './offline';
// The instances part (helper G): the service, the local driver, recovery and supervision.
export { createInstanceService, listStoredInstances, migrateInstances, pairWithTicket } from './instances';
export type { InstanceService, RecoveryReport } from './instances';
export { createInstancesPart } from './instances-part';
export type { InstancesPart, InstancesPartOptions } from './instances-part';
export { createLocalDriver } from './drivers/local';
export type { LocalDriver, LocalDriverOptions } from './drivers/local';
export { createSupervisor } from './supervisor';
export type { Supervisor, SupervisorOptions } from './supervisor';
// The updates part: releases, health-gated updates, backups and restores.
export { createUpdatesPart, migrateUpdates, runVolumeJob, s3FromEnv } from './updates';
export type { UpdatesPart, VolumeJob } from './updates';
export { parseReleaseKey } from './config';
export { VERSION } from './gateway-parts';
