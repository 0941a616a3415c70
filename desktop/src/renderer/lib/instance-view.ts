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
  sleeping: { label: 'Asleep', text: 'Asleep — wakes when you connect. Nobody used it for a while, so it gave its memory back; your conversations are kept.', tone: 'off' },
};

export function stateView(state: InstanceState): StateView {
  return VIEWS[state];
}

/** The gateway is up (or being brought back by the supervisor): pairing and chat can go on. */
export function isLive(state: InstanceState): boolean {
  return state === 'running' || state === 'degraded';
}

const CHANNEL_LABELS: Record<string, string> = { telegram: 'Telegram', discord: 'Discord', slack: 'Slack', matrix: 'Matrix', mattermost: 'Mattermost' };

/**
 * Why a running instance does not sleep when idle: the channels that need a
 * live connection (null when none). Telegram can sleep with a webhook.
 */
export function keepAwakeText(keepAwake: readonly string[] | undefined): string | null {
  if (!keepAwake || keepAwake.length === 0) return null;
  const names = keepAwake.map((c) => CHANNEL_LABELS[c] ?? c);
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  const hint = keepAwake.includes('telegram') ? ' Telegram can sleep too when you set its webhook URL.' : '';
  return `Stays awake for ${list}: ${names.length === 1 ? 'it needs' : 'they need'} a live connection.${hint}`;
}

export interface Controls {
  start: boolean;
  stop: boolean;
  delete: boolean;
}

export function controlsFor(state: InstanceState): Controls {
  return {
    start: state === 'stopped' || state === 'failed',
    stop: state === 'running' || state === 'degraded' || state === 'starting' || state === 'failed' || state === 'sleeping',
    delete: state !== 'deleting' && state !== 'updating' && state !== 'restoring',
  };
}
