import { describeError } from '../lib/client-error';
import { formatTime } from '../lib/format';
import { useApprovals, useRevokeApproval } from '../hooks/use-skills';
import { useSessions } from '../hooks/use-sessions';
import { useServices } from '../state/services';
import { LoadError } from './load-error';

/** Standing approvals ("in this conversation", "always"), each revocable. */
export function ApprovalsSection() {
  const { now } = useServices();
  const approvals = useApprovals();
  const revoke = useRevokeApproval();
  const sessions = useSessions();
  const title = (sessionId: string | null) => sessions.sessions.find((s) => s.id === sessionId)?.title ?? 'a conversation';
  return (
    <section className="settings-section" aria-labelledby="approvals-title">
      <h2 id="approvals-title">Standing approvals</h2>
      {approvals.isPending && <p className="muted">Loading approvals…</p>}
      {approvals.isError && <LoadError what="approvals" error={approvals.error} retry={approvals.refetch} />}
      {approvals.isSuccess && approvals.data.length === 0 && (
        <p className="empty">None. When you answer “Allow in this conversation” or “Always allow this tool”, the approval shows here until you revoke it.</p>
      )}
      {approvals.isSuccess && approvals.data.length > 0 && (
        <ul className="device-list" aria-label="Standing approvals">
          {approvals.data.map((a) => (
            <li key={a.id}>
              <div>
                <code>{a.tool}</code> <span className="badge">{a.scope === 'always' ? 'always' : `in “${title(a.sessionId)}”`}</span>
                <div className="muted small">since {formatTime(a.createdAt, now())}</div>
              </div>
              <button type="button" className="danger subtle" disabled={revoke.isPending} aria-label={`Revoke approval of ${a.tool}`} onClick={() => revoke.mutate(a.id)}>
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
      {revoke.isError && (
        <p className="notice error" role="alert">
          Could not revoke: {describeError(revoke.error).message}
        </p>
      )}
    </section>
  );
}
