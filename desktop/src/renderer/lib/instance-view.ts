/**
 * How the manager UI shows an instance's lifecycle state: a short label, a
 * sentence for the user, and which controls make sense (the transition table
 * in server/src/manager/instances/state-machine.ts decides what is legal;
 * this only avoids offering what would be refused).
 */
import type { InstanceState } from '@autoclaw/shared';

export interface StateView {
  label: string;
  /** What is happening, for the user. */
  text: string;
  /** Colour of the badge. */
  tone: 'ok' | 'busy' | 'warn' | 'bad' | 'off';
}

const VIEWS: Record<InstanceState, StateView> = {
  provisioning: { label: 'Provisioning', text: 'Setting up your assistant: storage, keys and its own process.', tone: 'busy' },
  starting: { label: 'Starting', text: 'Your assistant is starting.', tone: 'busy' },
  running: { label: 'Running', text: 'Your assistant is running.', tone: 'ok' },
  degraded: { label: 'Degraded', text: 'Your assistant is not answering its health checks; the supervisor is restarting it.', tone: 'warn' },
  stopping: { label: 'Stopping', text: 'Your assistant is stopping.', tone: 'busy' },
  stopped: { label: 'Stopped', text: 'Your assistant is stopped. Start it to chat again; your conversations are kept.', tone: 'off' },
  deleting: { label: 'Deleting', text: 'Your assistant and its data are being deleted.', tone: 'busy' },
  failed: { label: 'Failed', text: 'Your assistant could not run. Its last log lines are below; Start tries again.', tone: 'bad' },
  updating: { label: 'Updating', text: 'Your assistant is being updated.', tone: 'busy' },
  restoring: { label: 'Restoring', text: 'Your assistant is being restored from a backup.', tone: 'busy' },
};

export function stateView(state: InstanceState): StateView {
  return VIEWS[state];
}

/** The gateway is up (or being brought back by the supervisor): pairing and chat can go on. */
export function isLive(state: InstanceState): boolean {
  return state === 'running' || state === 'degraded';
}

export interface Controls {
  start: boolean;
  stop: boolean;
  delete: boolean;
}

export function controlsFor(state: InstanceState): Controls {
  return {
    start: state === 'stopped' || state === 'failed',
    stop: state === 'running' || state === 'degraded' || state === 'starting' || state === 'failed',
    delete: state !== 'deleting' && state !== 'updating' && state !== 'restoring',
  };
}
