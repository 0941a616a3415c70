/**
 * The instance lifecycle, written down as one table: every legal move and
 * why it exists. Anything not in the table is an illegal transition, a typed
 * CONFLICT naming both states. `deleting` ends with the row removed, so it
 * has no way out; `updating` and `restoring` are reserved for release
 * channels and backups (a later issue) but their moves are fixed here already.
 */
import { AppError, INSTANCE_STATES } from '@autoclaw/shared';
import type { InstanceState } from '@autoclaw/shared';

type Table = { readonly [From in InstanceState]: Readonly<Partial<Record<InstanceState, string>>> };

/** from → to → why that move exists. */
export const TRANSITIONS: Table = {
  provisioning: {
    starting: 'storage made, gateway process started',
    sleeping: 'provisioned asleep: storage and keys made, the gateway starts at the first connect',
    failed: 'provisioning failed',
    deleting: 'deleted while provisioning',
    restoring: 'a backup is restored into this new instance before its gateway first starts',
  },
  starting: {
    running: 'gateway answered /readyz',
    failed: 'gateway did not start (or crash loop)',
    stopping: 'stopped while starting',
    deleting: 'deleted while starting',
  },
  running: {
    degraded: 'health probes failing or the process died',
    starting: 'restart (memory limit, operator, or not found after a manager restart)',
    stopping: 'stop requested',
    failed: 'crash loop',
    updating: 'update to a new release (reserved)',
    deleting: 'deleted',
    sleeping: 'idle: no client, no turn, no channel that needs a live process',
  },
  degraded: {
    running: 'health probes pass again',
    starting: 'restart by the supervisor',
    stopping: 'stop requested',
    failed: 'crash loop',
    deleting: 'deleted',
  },
  stopping: {
    stopped: 'gateway process ended',
    failed: 'gateway could not be stopped',
    deleting: 'deleted while stopping',
  },
  stopped: {
    starting: 'start requested',
    restoring: 'restore from a backup (reserved)',
    deleting: 'deleted',
  },
  failed: {
    starting: 'retry',
    stopping: 'stop a failed instance (make sure nothing runs)',
    restoring: 'restore from a backup (reserved)',
    deleting: 'deleted',
  },
  deleting: {},
  updating: {
    running: 'update finished, health checks pass',
    failed: 'update failed and could not roll back',
    deleting: 'deleted while updating',
  },
  restoring: {
    stopped: 'restore finished',
    failed: 'restore failed',
    deleting: 'deleted while restoring',
    starting: 'restored into a new instance: its gateway starts for the first time',
  },
  sleeping: {
    starting: 'woken: a client connected, a request or a channel webhook came through the door, or a scheduled job',
    stopping: 'stop requested while asleep',
    failed: 'the gateway could not be put to sleep',
    deleting: 'deleted while asleep',
  },
};

/** States in which a gateway process is meant to be alive (the supervisor watches these). */
export const LIVE_STATES: ReadonlySet<InstanceState> = new Set(['running', 'degraded']);
/** States an operation is in the middle of (a manager restart resumes or finishes them). */
export const TRANSIENT_STATES: ReadonlySet<InstanceState> = new Set(['provisioning', 'starting', 'stopping', 'deleting', 'updating', 'restoring']);

export function canTransition(from: InstanceState, to: InstanceState): boolean {
  return Object.hasOwn(TRANSITIONS[from], to);
}

/** Throws CONFLICT naming `from` and `to` when the move is not in the table. */
export function assertTransition(from: InstanceState, to: InstanceState, instanceId?: string): void {
  if (!canTransition(from, to)) {
    const allowed = Object.keys(TRANSITIONS[from]);
    throw new AppError(
      'CONFLICT',
      `illegal instance transition from ${from} to ${to}${instanceId ? ` (${instanceId})` : ''}; from ${from} it may go to ${allowed.length > 0 ? allowed.join(', ') : 'nothing (its row is removed)'}`,
      { details: { from, to } },
    );
  }
}

/** Every legal [from, to] pair, for tests and documentation. */
export function legalTransitions(): Array<[InstanceState, InstanceState]> {
  return INSTANCE_STATES.flatMap((from) => (Object.keys(TRANSITIONS[from]) as InstanceState[]).map((to): [InstanceState, InstanceState] => [from, to]));
}
