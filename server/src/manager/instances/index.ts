/** The instances part's door. */
export { createInstanceService } from './service';
export type { InstanceService, InstanceServiceDeps, InstanceKeys, InstanceOps, InstanceVolumes, OpOptions, RestartOptions, RecoveryReport, Fence, SupervisedInstance } from './service';
export { TRANSITIONS, canTransition, assertTransition, legalTransitions, LIVE_STATES, TRANSIENT_STATES } from './state-machine';
export { migrateInstances, INSTANCES_PART } from './schema';
export { createGatewayLink, pairWithTicket, signChallenge } from './gateway-link';
export type { GatewayLink, GatewayClient, ManagerSigner } from './gateway-link';
export { listStoredInstances } from './repository';
export type { RemoveWith } from './repository';
