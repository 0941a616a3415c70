/** The cluster part's door: leases with fencing tokens, the leader election, and the registry of replicas. */
export { openCluster, holderIsGone, DEFAULT_CLUSTER_TIMINGS, LEADER_LEASE } from './cluster';
export type { Cluster, ClusterOptions, ClusterTimings, LeaderTask } from './cluster';
export { createLeases, isStaleLease, openLeases, staleLease } from './leases';
export type { Lease, Leases } from './leases';
export { createLeadership } from './leadership';
export type { Leadership, LeadershipOptions } from './leadership';
export { createReplicas } from './replicas';
export type { ReplicaInfo, Replicas } from './replicas';
export { CLUSTER_MIGRATIONS, CLUSTER_PART } from './schema';
