import type { ToolCall } from '@autoclaw/shared';
import { prettyJson } from '../lib/format';
import type { ChatActions } from '../hooks/use-chat-actions';
import { useEveryCallTools } from '../hooks/use-skills';
import { useWhoAmI } from '../hooks/use-settings';

const STATUS_LABEL: Record<ToolCall['status'], string> = {
  pending: 'pending',
  awaiting_approval: 'waiting for your approval',
  running: 'running…',
  done: 'done',
  error: 'error',
  denied: 'denied',
};

export function ToolCallView({ call, actions }: { call: ToolCall; actions: ChatActions }) {
  const waiting = call.status === 'awaiting_approval';
  const deciding = actions.approve.isPending && actions.approve.variables?.toolCallId === call.id;
  const everyCall = useEveryCallTools().has(call.name);
  // Standing approvals are the owner's to give (the gateway refuses them from a chat-only device).
  const me = useWhoAmI().data;
  const mayStand = !everyCall && (me === undefined || me.kind !== 'client' || me.role === 'owner');
  return (
    <div className={`tool-call status-${call.status}`} data-testid="tool-call">
      <details open={waiting || call.status === 'error'}>
        <summary>
          <span className="tool-kind">tool</span>
          <span className="tool-name">{call.name}</span>
          {call.risky && <span className="badge warning">risky</span>}
          <span className={`badge tool-status status-${call.status}`}>{STATUS_LABEL[call.status]}</span>
        </summary>
        <div className="tool-body">
          <h4>Input</h4>
          <pre className="tool-input">{prettyJson(call.input)}</pre>
          {call.result !== null && (
            <>
              <h4>{call.status === 'error' ? 'Error' : 'Result'}</h4>
              <pre className="tool-result" aria-label={`Result of ${call.name}`}>
                {call.result}
              </pre>
            </>
          )}
        </div>
      </details>
      {waiting && (
        <div className="approval" role="group" aria-label={`Approve ${call.name}?`}>
          <p>
            The assistant wants to run <strong>{call.name}</strong>. Allow it?
          </p>
          <div className="approval-actions">
            <button
              type="button"
              className="primary"
              disabled={deciding}
              onClick={() => actions.approve.mutate({ toolCallId: call.id, approve: true, scope: 'once' })}
            >
              Approve
            </button>
            {mayStand && (
              <>
                <button type="button" disabled={deciding} onClick={() => actions.approve.mutate({ toolCallId: call.id, approve: true, scope: 'session' })}>
                  Allow in this conversation
                </button>
                <button type="button" disabled={deciding} onClick={() => actions.approve.mutate({ toolCallId: call.id, approve: true, scope: 'always' })}>
                  Always allow this tool
                </button>
              </>
            )}
            <button type="button" className="danger" disabled={deciding} onClick={() => actions.approve.mutate({ toolCallId: call.id, approve: false })}>
              Deny
            </button>
          </div>
          {everyCall && <p className="hint">This tool asks every time.</p>}
        </div>
      )}
    </div>
  );
}
