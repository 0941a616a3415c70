/**
 * Runs one round of tool calls: all at once, risky ones only after the user
 * approved them (a "no" becomes a result telling the model so). Every status
 * change is stored and published as a `tool` event.
 */
import type { ToolCall, ToolCallStatus } from '@autoclaw/shared';
import type { AgentRuntime } from './runtime';

export const DENIED_RESULT = 'The user denied this tool call. Do not retry it unless the user asks; continue without it.';
export const CANCELLED_RESULT = 'Not run: the user stopped the turn.';

function update(rt: AgentRuntime, sessionId: string, call: ToolCall, status: ToolCallStatus, result?: string): ToolCall {
  const updated = rt.store.updateToolCall(call.id, result === undefined ? { status } : { status, result });
  rt.hub.emit(sessionId, { type: 'tool', toolCall: updated });
  return updated;
}

async function runOne(rt: AgentRuntime, sessionId: string, call: ToolCall, signal: AbortSignal): Promise<ToolCall> {
  if (call.status === 'awaiting_approval') {
    const approved = await rt.approvals.wait(call.id, sessionId, signal);
    if (!approved) return update(rt, sessionId, call, 'denied', signal.aborted ? CANCELLED_RESULT : DENIED_RESULT);
  }
  if (signal.aborted) return update(rt, sessionId, call, 'error', CANCELLED_RESULT);
  const running = update(rt, sessionId, call, 'running');
  let input: unknown;
  try {
    input = JSON.parse(call.input) as unknown;
  } catch {
    return update(rt, sessionId, running, 'error', `Invalid input for ${call.name}: not JSON`);
  }
  const outcome = await rt.tools.run(call.name, input, { sessionId, toolCallId: call.id, signal });
  return update(rt, sessionId, running, outcome.ok ? 'done' : 'error', outcome.content);
}

/** Runs the calls in parallel; returns them finished (done, error or denied), in the given order. */
export function runToolCalls(rt: AgentRuntime, sessionId: string, calls: readonly ToolCall[], signal: AbortSignal): Promise<ToolCall[]> {
  return Promise.all(calls.map((call) => runOne(rt, sessionId, call, signal)));
}
