import type { Session } from '@autoclaw/shared';
import { describeError } from '../lib/client-error';
import { formatTime } from '../lib/format';
import { useCreateSession, useDeleteSession, useSessions } from '../hooks/use-sessions';
import { useServices, useUi } from '../state/services';
import { ConfirmButton } from './confirm-button';

function SessionRow({ session, active, onSelect }: { session: Session; active: boolean; onSelect: () => void }) {
  const { now } = useServices();
  const remove = useDeleteSession();
  const title = session.title || session.name || 'Untitled';
  return (
    <li className={active ? 'session active' : 'session'}>
      <button type="button" className="session-open" aria-current={active ? 'page' : undefined} onClick={onSelect}>
        <span className="session-title">
          {title}
          {session.busy && (
            <span className="dot busy" aria-label="working">
              {' '}
              ●
            </span>
          )}
        </span>
        <span className="session-meta">
          <span className="session-preview">{session.preview || 'No messages yet'}</span>
          <time dateTime={new Date(session.updatedAt).toISOString()}>{formatTime(session.updatedAt, now())}</time>
        </span>
      </button>
      <ConfirmButton
        label="✕"
        className="icon-button session-delete"
        ariaLabel={`Delete conversation ${title}`}
        question={`Delete “${title}”?`}
        confirmLabel="Delete"
        disabled={remove.isPending}
        onConfirm={() => remove.mutate(session.id)}
      />
      {remove.isError && (
        <p className="notice error" role="alert">
          Could not delete: {describeError(remove.error).message}
        </p>
      )}
    </li>
  );
}

export function SessionsSidebar() {
  const { query: sessions, sessions: list } = useSessions();
  const create = useCreateSession();
  const activeSessionId = useUi((s) => s.activeSessionId);
  const selectSession = useUi((s) => s.selectSession);

  return (
    <nav className="sidebar" aria-label="Conversations">
      <button
        type="button"
        className="primary new-chat"
        onClick={() => create.mutate()}
        disabled={create.isPending}
        aria-keyshortcuts="Alt+N"
        title="New chat (Alt+N)"
      >
        + New chat
      </button>
      {create.isError && (
        <p className="notice error" role="alert">
          Could not start a chat: {describeError(create.error).message}
        </p>
      )}
      {sessions.isPending && <p className="muted">Loading conversations…</p>}
      {sessions.isError && (
        <div className="notice error" role="alert">
          <p>Could not load conversations: {describeError(sessions.error).message}</p>
          <button type="button" onClick={() => void sessions.refetch()}>
            Try again
          </button>
        </div>
      )}
      {sessions.isSuccess && list.length === 0 && (
        <p className="empty">No conversations yet. Start one with “New chat” or just type a message.</p>
      )}
      {sessions.isSuccess && list.length > 0 && (
        <ul className="session-list">
          {list.map((session) => (
            <SessionRow
              key={session.id}
              session={session}
              active={session.id === activeSessionId}
              onSelect={() => selectSession(session.id)}
            />
          ))}
        </ul>
      )}
      {sessions.hasNextPage && (
        <button type="button" className="subtle show-more" disabled={sessions.isFetchingNextPage} onClick={() => void sessions.fetchNextPage()}>
          {sessions.isFetchingNextPage ? 'Loading…' : 'Show more conversations'}
        </button>
      )}
      {sessions.isFetchNextPageError && (
        <p className="notice error" role="alert">
          Could not load more conversations: {describeError(sessions.error).message}
        </p>
      )}
    </nav>
  );
}
