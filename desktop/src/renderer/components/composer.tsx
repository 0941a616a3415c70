import { useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { LIMITS } from '@autoclaw/shared';
import { useServices } from '../state/services';

interface ComposerProps {
  /** null: the default session, made when the message is first sent. */
  sessionId: string | null;
  busy: boolean;
  stopping: boolean;
  onStop: () => void;
}

/** Enter sends, Shift+Enter adds a line. What is sent goes to the outbox first, so it is never lost. */
export function Composer({ sessionId, busy, stopping, onStop }: ComposerProps) {
  const { outbox, newClientId, now } = useServices();
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);

  function send() {
    const message = text.trim();
    if (!message) return;
    if (message.length > LIMITS.messageChars) {
      setError(`That message is ${message.length} characters; the limit is ${LIMITS.messageChars}.`);
      return;
    }
    outbox.add({ clientId: newClientId(), sessionId, text: message, createdAt: now(), error: null });
    setText('');
    setError(null);
    inputRef.current?.focus();
  }

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    send();
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send();
    }
  }

  const lines = Math.min(10, Math.max(2, text.split('\n').length));
  const nearLimit = text.length > LIMITS.messageChars * 0.9;

  return (
    <form className="composer" onSubmit={onSubmit}>
      <label htmlFor="composer-input" className="visually-hidden">
        Message
      </label>
      <textarea
        id="composer-input"
        ref={inputRef}
        value={text}
        rows={lines}
        placeholder="Message your assistant — Enter to send, Shift+Enter for a new line"
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
        aria-invalid={error !== null}
        aria-describedby={error ? 'composer-error' : undefined}
        autoFocus
      />
      <div className="composer-actions">
        {nearLimit && (
          <span className="muted" aria-live="polite">
            {text.length} / {LIMITS.messageChars}
          </span>
        )}
        {busy && (
          <button type="button" className="danger" onClick={onStop} disabled={stopping} aria-keyshortcuts="Escape" title="Stop (Esc)">
            {stopping ? 'Stopping…' : 'Stop'}
          </button>
        )}
        <button type="submit" className="primary" disabled={text.trim().length === 0}>
          Send
        </button>
      </div>
      {error && (
        <p id="composer-error" className="notice error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
