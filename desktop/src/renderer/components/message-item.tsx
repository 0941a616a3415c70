import type { Message } from '@autoclaw/shared';
import { formatTime, formatUsage } from '../lib/format';
import type { ChatActions } from '../hooks/use-chat-actions';
import { useServices, useUi } from '../state/services';
import { ConfirmButton } from './confirm-button';
import { MarkdownView } from './markdown-view';
import { ToolCallView } from './tool-call-view';

const BADGE: Partial<Record<Message['status'], string>> = {
  queued: 'queued',
  running: 'thinking…',
  streaming: 'streaming…',
  interrupted: 'interrupted',
  failed: 'failed',
  cancelled: 'cancelled',
};

const RETRYABLE: ReadonlySet<Message['status']> = new Set(['interrupted', 'failed', 'cancelled']);

/** A turn refused by a hard budget: what happened, how much is left (in the text), and the way to raise the cap. */
function BudgetRefusal({ text }: { text: string }) {
  const openBudget = useUi((s) => s.openBudget);
  return (
    <div className="notice error budget-refusal" role="alert">
      <p>
        <strong>Not sent — budget reached. </strong>
        {text}
      </p>
      <button type="button" onClick={openBudget}>
        Open the budget
      </button>
    </div>
  );
}

export function MessageItem({ message, actions }: { message: Message; actions: ChatActions }) {
  const { now } = useServices();
  const who = message.role === 'user' ? 'You' : 'Assistant';
  const refused = message.error?.code === 'BUDGET_EXCEEDED';
  const badge = refused && message.role === 'user' ? 'refused' : BADGE[message.status];
  const streaming = message.status === 'streaming';
  // A turn is retried through its user message.
  const retryId = message.role === 'user' ? message.id : (message.turnId ?? message.id);
  const retrying = actions.retry.isPending && actions.retry.variables === retryId;

  return (
    <article className={`message ${message.role} status-${message.status}`} aria-label={`${who} message`} data-status={message.status}>
      <header className="message-header">
        <span className="message-author">{who}</span>
        <time dateTime={new Date(message.createdAt).toISOString()}>{formatTime(message.createdAt, now())}</time>
        {badge && <span className={`badge status-${message.status}`}>{badge}</span>}
        {!streaming && message.status !== 'queued' && message.status !== 'running' && (
          <span className="message-tools">
            <ConfirmButton
              label="Delete"
              className="subtle small"
              ariaLabel={`Delete ${who.toLowerCase()} message`}
              question="Delete this message?"
              confirmLabel="Delete"
              onConfirm={() => actions.deleteMessage.mutate(message.id)}
            />
          </span>
        )}
      </header>
      {message.role === 'user' ? (
        <p className="plain-text">{message.text}</p>
      ) : (
        message.text.length > 0 && <MarkdownView text={message.text} streaming={streaming} />
      )}
      {message.toolCalls.map((call) => (
        <ToolCallView key={call.id} call={call} actions={actions} />
      ))}
      {message.error && refused && message.role === 'assistant' && <BudgetRefusal text={message.error.message} />}
      {message.error && !refused && (
        <p className="notice error message-error">
          <strong>{message.error.code === 'NOT_CONFIGURED' ? 'Not configured: ' : 'Error: '}</strong>
          {message.error.message}
        </p>
      )}
      {message.usage && <footer className="usage">{formatUsage(message.usage)}</footer>}
      {RETRYABLE.has(message.status) && (
        <div className="message-actions">
          <button type="button" onClick={() => actions.retry.mutate(retryId)} disabled={retrying}>
            {retrying ? 'Retrying…' : 'Retry'}
          </button>
        </div>
      )}
    </article>
  );
}
