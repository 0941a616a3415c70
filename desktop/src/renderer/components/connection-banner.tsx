import type { ConnectionStatus } from '../lib/gateway-connection';
import { useConnectionDetail } from '../state/gateway-context';

const TEXT: Record<ConnectionStatus, string> = {
  connecting: 'Connecting…',
  online: 'Online',
  offline: 'Offline — reconnecting…',
  rate_limited: 'Too many attempts — waiting before reconnecting…',
  unauthorized: 'Not paired',
  wake_failed: 'Your assistant could not wake',
  refused: 'The manager refused this connection',
};

export function ConnectionBanner() {
  const { status, detail, waking } = useConnectionDetail();
  // Through the manager's door a sleeping instance wakes while the connection is held.
  const shown = waking && (status === 'connecting' || status === 'offline') ? 'Waking your assistant…' : TEXT[status];
  // The door's reason repeats the headline ("your assistant could not wake: …"): only what follows is added.
  const reason = detail?.replace(/^your assistant could not wake:\s*/i, '') ?? '';
  const why = reason !== '' && (status === 'wake_failed' || status === 'refused') ? `: ${reason}` : '';
  return (
    <div className={`connection connection-${status}${waking ? ' connection-waking' : ''}`} role="status" aria-label="Connection" data-status={status}>
      <span className="connection-dot" aria-hidden="true" />
      <span className="connection-text">
        {shown}
        {why}
      </span>
    </div>
  );
}
