/**
 * Reading a gateway pod: phase, readiness, restarts, the last exit code, and
 * the event the driver publishes for it. Pure functions over V1Pod.
 */
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { ANNOTATION_INSTANCE_ID } from './options';

export interface InstancePodEvent {
  instanceId: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  pod: string;
  phase: string;
  ready: boolean;
  restarts: number;
  terminating: boolean;
}

export function gatewayStatus(pod: V1Pod | undefined): V1ContainerStatus | undefined {
  return pod?.status?.containerStatuses?.find((c) => c.name === 'gateway');
}

export function podReady(pod: V1Pod | undefined): boolean {
  return (pod?.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export function podAlive(pod: V1Pod | undefined): boolean {
  if (!pod || pod.metadata?.deletionTimestamp) return false;
  const phase = pod.status?.phase ?? 'Pending';
  return phase === 'Pending' || phase === 'Running';
}

export function lastExitCode(pod: V1Pod | undefined): number | null | undefined {
  const cs = gatewayStatus(pod);
  if (!cs) return undefined;
  return cs.state?.terminated?.exitCode ?? cs.lastState?.terminated?.exitCode ?? null;
}

export function podEvent(type: InstancePodEvent['type'], pod: V1Pod): InstancePodEvent | null {
  const instanceId = pod.metadata?.annotations?.[ANNOTATION_INSTANCE_ID];
  if (!instanceId) return null;
  return {
    instanceId,
    type,
    pod: pod.metadata?.name ?? '',
    phase: pod.status?.phase ?? 'Pending',
    ready: type !== 'DELETED' && podReady(pod),
    restarts: gatewayStatus(pod)?.restartCount ?? 0,
    terminating: type === 'DELETED' || Boolean(pod.metadata?.deletionTimestamp),
  };
}
