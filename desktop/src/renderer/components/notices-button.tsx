import { useEffect, useId, useRef, useState } from 'react';
import type { Notice } from '@autoclaw/shared';
import { describeError } from '../lib/client-error';
import { formatTime } from '../lib/format';
import { useMarkNoticesRead, useNoticeList, useNoticeStream } from '../hooks/use-notices';
import { useServices } from '../state/services';

const TOAST_MS = 8_000;

/** The bell in the header: unread count, the list of notices, and a toast for each new one. */
export function NoticesButton() {
  const list = useNoticeList();
  const latest = useNoticeStream();
  const markRead = useMarkNoticesRead();
  const { alerts, now } = useServices();
  const [open, setOpen] = useState(false);
  const [toast, setToast] = useState<Notice | null>(null);
  const [permission, setPermission] = useState(() => alerts.permission());
  const panelId = useId();
  const button = useRef<HTMLButtonElement>(null);
  const unread = list.data?.unread ?? 0;

  useEffect(() => {
    if (!latest) return;
    setToast(latest);
    const timer = window.setTimeout(() => setToast(null), TOAST_MS);
    return () => window.clearTimeout(timer);
  }, [latest]);

  useEffect(() => {
    if (!open) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') {
        setOpen(false);
        button.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [open]);

  return (
    <div className="notices">
      <button
        ref={button}
        type="button"
        className="notices-button"
        aria-expanded={open}
        aria-controls={panelId}
        aria-label={unread > 0 ? `Notices, ${unread} unread` : 'Notices'}
        onClick={() => setOpen((o) => !o)}
      >
        <svg className="notices-icon" aria-hidden="true" viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
          <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
          <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
        </svg>
        {unread > 0 && (
          <span className="notices-count" data-testid="notices-unread">
            {unread > 99 ? '99+' : unread}
          </span>
        )}
      </button>
      {open && (
        <section id={panelId} className="notices-panel" aria-label="Notices">
          <header className="notices-panel-header">
            <h2>Notices</h2>
            <button type="button" disabled={unread === 0 || markRead.isPending} onClick={() => markRead.mutate({ all: true })}>
              Mark all read
            </button>
          </header>
          {permission === 'default' && (
            <p className="hint">
              <button type="button" onClick={() => void alerts.request().then(setPermission)}>
                Show notices as system notifications
              </button>
            </p>
          )}
          {list.isPending && <p className="muted">Loading notices…</p>}
          {list.isError && (
            <p className="notice error" role="alert">
              Could not load notices: {describeError(list.error).message}
            </p>
          )}
          {list.isSuccess && list.data.notices.length === 0 && <p className="muted">Nothing yet. Budget warnings and channel problems show up here.</p>}
          {list.isSuccess && list.data.notices.length > 0 && (
            <ul className="notices-list">
              {list.data.notices.map((n) => (
                <li key={n.id} className={`notice-item notice-${n.level}${n.readAt === null ? ' unread' : ''}`}>
                  <strong>{n.title}</strong>
                  {n.body && <p>{n.body}</p>}
                  <time dateTime={new Date(n.createdAt).toISOString()}>{formatTime(n.createdAt, now())}</time>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
      {toast && (
        <div className={`notice-toast notice-${toast.level}`} role={toast.level === 'error' ? 'alert' : 'status'}>
          <strong>{toast.title}</strong>
          {toast.body && <span>{toast.body}</span>}
          <button type="button" aria-label="Dismiss" onClick={() => setToast(null)}>
            ×
          </button>
        </div>
      )}
    </div>
  );
}
