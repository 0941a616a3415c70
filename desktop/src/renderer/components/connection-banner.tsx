import type { ConnectionStatus } from '../lib/gateway-connection';
import { useConnectionStatus } from '../state/gateway-context';

const TEXT: Record<ConnectionStatus, string> = {
  connecting: 'Connecting…',
  online: 'Online',
  offline: 'Offline — reconnecting…',
  rate_limited: 'Too many attempts — waiting before reconnecting…',
  unauthorized: 'Not paired',
};

export function ConnectionBanner() {
  const status = useConnectionStatus();
  return (
    <div className={`connection connection-${status}`} role="status" aria-label="Connection" data-status={status}>
      <span className="connection-dot" aria-hidden="true" />
      {TEXT[status]}
    </div>
  );
}
