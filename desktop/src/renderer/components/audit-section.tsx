import type { GatewayAuditEntry } from '@autoclaw/shared';
import { describeError } from '../lib/client-error';
import { formatTime } from '../lib/format';
import { useAuditLog } from '../hooks/use-settings';
import { useServices } from '../state/services';

const ACTION_TEXT: Record<GatewayAuditEntry['action'], string> = {
  'settings.set': 'set',
  'settings.clear': 'cleared',
  'settings.endpoint': 'changed the endpoint',
  'devices.revoke': 'revoked device',
  'devices.role': 'changed the role of',
  'budget.set': 'changed',
  'budget.plan': 'the manager changed the',
  'channels.enable': 'enabled channel',
  'channels.disable': 'disabled channel',
  'channels.approve': 'approved sender',
  'channels.deny': 'denied pairing of',
  'channels.revoke': 'revoked sender',
};

function describe(entry: GatewayAuditEntry): string {
  const change = entry.oldValue !== null || entry.newValue !== null ? `: ${entry.oldValue ?? '–'} → ${entry.newValue ?? '–'}` : '';
  return `${ACTION_TEXT[entry.action]} ${entry.target}${change}${entry.detail ? ` (${entry.detail})` : ''}`;
}

/** Who changed settings and devices, and when (owner devices only; the gateway refuses others). */
export function AuditSection() {
  const { now } = useServices();
  const log = useAuditLog(true);
  const entries = log.data?.pages.flatMap((p) => p.entries) ?? [];
  return (
    <section className="settings-section" aria-labelledby="audit-title">
      <h2 id="audit-title">Recent changes</h2>
      {log.isPending && <p className="muted">Loading changes…</p>}
      {log.isError && (
        <p className="notice error" role="alert">
          Could not load the audit log: {describeError(log.error).message}
        </p>
      )}
      {log.isSuccess && entries.length === 0 && <p className="empty">No settings or devices were changed yet.</p>}
      {entries.length > 0 && (
        <ul className="audit-list" aria-label="Audit log">
          {entries.map((entry) => (
            <li key={entry.seq}>
              <time dateTime={new Date(entry.at).toISOString()}>{formatTime(entry.at, now())}</time>{' '}
              <code className="small">{entry.deviceId ?? 'local CLI'}</code> {describe(entry)}
            </li>
          ))}
        </ul>
      )}
      {log.hasNextPage && (
        <button type="button" className="subtle" disabled={log.isFetchingNextPage} onClick={() => void log.fetchNextPage()}>
          {log.isFetchingNextPage ? 'Loading…' : 'Show older changes'}
        </button>
      )}
    </section>
  );
}
