import { useDeferredValue, useState } from 'react';
import { describeError } from '../lib/client-error';
import { formatTime } from '../lib/format';
import { useDeleteMemory, useMemories } from '../hooks/use-settings';
import { useServices } from '../state/services';
import { ConfirmButton } from './confirm-button';

export function MemoriesSection() {
  const { now } = useServices();
  const [query, setQuery] = useState('');
  const deferred = useDeferredValue(query.trim());
  const memories = useMemories(deferred);
  const remove = useDeleteMemory();
  return (
    <section className="settings-section" aria-labelledby="memories-title">
      <h2 id="memories-title">Memories</h2>
      <p className="hint">What the assistant saved to remember across conversations.</p>
      <input type="search" aria-label="Search memories" placeholder="Search memories" value={query} onChange={(e) => setQuery(e.target.value)} />
      {memories.isPending && <p className="muted">Loading memories…</p>}
      {memories.isError && (
        <p className="notice error" role="alert">
          Could not load memories: {describeError(memories.error).message}
        </p>
      )}
      {memories.isSuccess && memories.data.length === 0 && <p className="empty">{deferred ? 'No memory matches.' : 'No memories yet.'}</p>}
      {memories.isSuccess && memories.data.length > 0 && (
        <ul className="memory-list">
          {memories.data.map((memory) => (
            <li key={memory.id}>
              <span className="memory-text">{memory.text}</span>
              <span className="muted small">{formatTime(memory.createdAt, now())}</span>
              <ConfirmButton
                label="Delete"
                ariaLabel={`Delete memory ${memory.text.slice(0, 40)}`}
                question="Forget this?"
                confirmLabel="Delete"
                onConfirm={() => remove.mutate(memory.id)}
              />
            </li>
          ))}
        </ul>
      )}
      {remove.isError && (
        <p className="notice error" role="alert">
          Could not delete: {describeError(remove.error).message}
        </p>
      )}
    </section>
  );
}
