/** What the turn runner and the tool executor share (built once by the chat service). */
import type { ModelRef } from '@autoclaw/shared';
import type { Store } from '../store/types';
import type { Approvals } from './approvals';
import type { BudgetGate } from './budget-gate';
import type { ContextBuilder } from './context-builder';
import type { EventHub } from './event-hub';
import type { Logger } from './logger';
import type { Provider, RetryOptions } from './providers';
import type { ToolCatalog } from '../skills';

export interface AgentRuntime {
  store: Store;
  hub: EventHub;
  tools: ToolCatalog;
  approvals: Approvals;
  context: ContextBuilder;
  resolveProvider: () => { provider: Provider; model: ModelRef };
  /** Every provider call goes through it: reserved before it is sent, settled by its usage. */
  budget: BudgetGate;
  now: () => number;
  retry: RetryOptions;
  maxToolIterations: number;
  maxOutputTokens: number;
  persistIntervalMs: number;
  /** Text streamed so far of each streaming message (the store lags up to `persistIntervalMs`). */
  live: Map<string, string>;
  logger: Logger;
}

/** Publishes the session's list view (title, busy, preview) after it changed. */
export function emitSession(rt: Pick<AgentRuntime, 'store' | 'hub'>, sessionId: string): void {
  const session = rt.store.getSession(sessionId);
  if (session) rt.hub.emit(sessionId, { type: 'session', session });
}
