import type { OutboxItem } from '../lib/outbox';
import { useServices } from '../state/services';

/** A message the gateway has not acknowledged yet: shown at once, marked "sending…". */
export function OutboxItemView({ item }: { item: OutboxItem }) {
  const { outbox } = useServices();
  return (
    <article className="message user pending" aria-label="You message" data-status={item.error ? 'failed' : 'sending'}>
      <header className="message-header">
        <span className="message-author">You</span>
        <span className={item.error ? 'badge status-failed' : 'badge status-sending'}>{item.error ? 'not sent' : 'sending…'}</span>
      </header>
      <p className="plain-text">{item.text}</p>
      {item.error && (
        <div className="notice error">
          <p>The gateway refused this message: {item.error.message}</p>
          <button type="button" onClick={() => outbox.update(item.clientId, { error: null })}>
            Send again
          </button>
          <button type="button" className="danger subtle" onClick={() => outbox.remove(item.clientId)}>
            Discard
          </button>
        </div>
      )}
    </article>
  );
}
