import type { ChannelStateChange, ChannelStatus } from '@autoclaw/shared';
import { formatTime } from '../lib/format';
import { useServices } from '../state/services';

const WORDS: Record<ChannelStatus['state'], string> = {
  connected: 'Connected',
  reconnecting: 'Reconnecting',
  down: 'Down',
  disabled: 'Disabled',
};

/** "Connected", "Reconnecting (since 10:24)", "Down: the token was refused", "Disabled". */
export function stateText(state: ChannelStatus['state'], since: number | null, error: string | null, now: number): string {
  if (state === 'reconnecting') return since === null ? 'Reconnecting' : `Reconnecting (since ${formatTime(since, now)})`;
  if (state === 'down') return error ? `Down: ${error}` : 'Down';
  return WORDS[state];
}

export function StateBadge({ status, label }: { status: ChannelStatus; label: string }) {
  const { now } = useServices();
  return (
    <span role="status" aria-label={`${label} state`} className={`channel-state state-${status.state}`}>
      {stateText(status.state, status.since, status.lastError, now())}
    </span>
  );
}

export function StateHistory({ history }: { history: ChannelStateChange[] }) {
  const { now } = useServices();
  if (history.length === 0) return <p className="empty">No state changes yet.</p>;
  return (
    <ol className="channel-history" aria-label="State history">
      {history.slice(0, 20).map((change, i) => (
        <li key={`${change.at}-${i}`}>
          <time dateTime={new Date(change.at).toISOString()}>{formatTime(change.at, now())}</time>{' '}
          <span className={`channel-state state-${change.state}`}>{WORDS[change.state]}</span>
          {change.error && <span className="muted small"> — {change.error}</span>}
        </li>
      ))}
    </ol>
  );
}
