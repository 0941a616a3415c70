import type { InstanceEvent } from '@autoclaw/shared';
import { formatTime } from '../../lib/format';
import { stateView } from '../../lib/instance-view';
import { useServices } from '../../state/services';

const KIND_LABEL: Record<InstanceEvent['kind'], string> = {
  transition: 'State',
  health: 'Health',
  crash: 'Crash',
  restart: 'Restart',
  adopted: 'Adopted',
  memory: 'Memory',
  device: 'Device',
  update: 'Update',
  backup: 'Backup',
  sleep: 'Sleep',
};

/** Everything that happened to the instance, newest first (what the manager persisted). */
export function InstanceEvents({ events }: { events: readonly InstanceEvent[] }) {
  const { now } = useServices();
  return (
    <section className="settings-section" aria-labelledby="events-title">
      <h2 id="events-title">History</h2>
      {events.length === 0 ? (
        <p className="empty">No events yet.</p>
      ) : (
        <ol className="event-list" aria-label="Instance events">
          {[...events].reverse().map((event) => (
            <li key={event.id} className={`event event-${event.kind}`}>
              <span className="badge">{KIND_LABEL[event.kind]}</span>{' '}
              {event.from !== null && event.to !== null && (
                <span className="event-move">
                  {stateView(event.from).label} → {stateView(event.to).label}
                </span>
              )}{' '}
              <span>{event.message}</span> <span className="muted small">{formatTime(event.at, now())}</span>
              {event.logLines && event.logLines.length > 0 && (
                <details>
                  <summary>Last log lines</summary>
                  <pre className="log-lines">{event.logLines.join('\n')}</pre>
                </details>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
