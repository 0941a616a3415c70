/**
 * The chat service: sessions, the per-session turn queue, the tool loop and
 * the live event stream, over the store and a provider. One per gateway.
 */
import { AppError, LIMITS, type ApprovalScope, type ChatEvent, type ChatSendResult, type Message, type ModelRef, type NoticeSink } from '@autoclaw/shared';
import { createGroupCommit, type Store } from '../store';
import { Approvals } from './approvals';
import { BudgetGate } from './budget-gate';
import { ContextBuilder } from './context-builder';
import { EventHub, type SyncEvent } from './event-hub';
import { randomId } from './ids';
import { SILENT_LOGGER, type Logger } from './logger';
import type { Provider, RetryOptions } from './providers';
import { emitSession, type AgentRuntime } from './runtime';
import { SessionQueue } from './session-queue';
import { coreSkillTools, SkillToolCatalog, type InProcessTool, type ToolCatalog } from '../skills';
import { TurnRunner } from './turn-runner';
import type { ChatService, SendInput } from './types';

export interface ChatServiceDeps {
  store: Store;
  /** The provider and model for the next call; throws AppError (e.g. NOT_CONFIGURED) when none is usable. */
  resolveProvider: () => { provider: Provider; model: ModelRef };
  /** Directory the workspace tools may read and write (made on first use). */
  workspaceDir: string;
  /** Every tool the model may call (the gateway's skill runtime); default: the core skill alone. */
  tools?: ToolCatalog;
  now?: () => number;
  /** Options for the one retry policy (e.g. a fast `sleep` in tests). */
  retry?: RetryOptions;
  /** Token budget of a request's context (default 24 000). */
  contextBudgetTokens?: number;
  /** Most rounds of tool calls in one turn (default 8). */
  maxToolIterations?: number;
  /** max_tokens of an answer (default 4096). */
  maxOutputTokens?: number;
  /** How often streamed text is written to the store (default 250 ms). */
  persistIntervalMs?: number;
  /** In-process tools beyond the built-ins, when `tools` is not given (tests add their own). */
  extraTools?: readonly InProcessTool[];
  /** Events kept per session for resuming (default 2000). */
  eventBufferSize?: number;
  /** A quiet session's event ring is dropped after this long without listeners (default 60 s). */
  eventIdleMs?: number;
  logger?: Logger;
  /** Called when no turn is running or queued any more (e.g. to collect garbage). */
  onIdle?: () => void;
  /** Where the agent tells the user about itself (budget warnings). */
  notices?: NoticeSink;
  /** Called after each turn with how it ended (metrics and the turn's log line). */
  onTurnEnd?: (turn: TurnEnd) => void;
}

/** How a turn ended: the user message's final status, and its error code when it failed. */
export interface TurnEnd {
  sessionId: string;
  messageId: string;
  durationMs: number;
  status: string;
  errorCode: string | null;
}

/** The chat service with its tool registry visible (for inspection and tests). */
export interface AgentChatService extends ChatService {
  readonly tools: ToolCatalog;
  /** Event-ring and queue sizes, for tests and diagnostics. */
  stats(): { sessionsWithEvents: number; bufferedEvents: number; subscribers: number; busySessions: number; pendingApprovals: number; liveMessages: number; cachedHistories: number; queueDepth: number };
}

const RETRYABLE_STATUSES = new Set(['interrupted', 'failed', 'cancelled']);

export function createChatService(deps: ChatServiceDeps): AgentChatService {
  const { store } = deps;
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? SILENT_LOGGER;
  const tools =
    deps.tools ??
    new SkillToolCatalog(coreSkillTools({ store, workspaceDir: deps.workspaceDir, now, extraTools: deps.extraTools ?? [] }));
  const live = new Map<string, string>();
  const deleting = new Set<string>();
  // Messages from many sockets that arrive in one event-loop turn share one commit.
  const writer = createGroupCommit(store);

  function checkSend({ sessionId, text }: SendInput): void {
    if (stopped) throw new AppError('CONFLICT', 'The gateway is shutting down; send again in a moment.');
    if (text.trim().length === 0) throw new AppError('BAD_REQUEST', 'message is empty');
    if (text.length > LIMITS.messageChars) {
      throw new AppError('PAYLOAD_TOO_LARGE', `message is longer than ${LIMITS.messageChars} characters`);
    }
    if (deleting.has(sessionId)) throw new AppError('NOT_FOUND', `session ${sessionId} was not found`);
  }

  /** After the commit: announce and queue a new message; a duplicate is returned as stored. */
  function accept(sessionId: string, result: ChatSendResult): ChatSendResult {
    if (result.duplicate) {
      if (result.message.sessionId !== sessionId) {
        throw new AppError('CONFLICT', 'This client message id was already used in another session');
      }
      return result;
    }
    hub.emit(sessionId, { type: 'message', message: result.message });
    // Stopped between the check and the commit: the message stays queued in
    // the store and the next start runs it.
    if (!stopped) enqueue(result.message);
    emitSession(rt, sessionId);
    return result;
  }
  let sweepTimer: ReturnType<typeof setInterval> | null = null;
  let stopped = false;

  const snapshot = (sessionId: string): SyncEvent => {
    const session = store.getSession(sessionId);
    if (!session) throw new AppError('NOT_FOUND', `session ${sessionId} was not found`);
    return { type: 'sync', session, messages: withLiveText(store.listMessages(sessionId)) };
  };
  const withLiveText = (messages: Message[]): Message[] => {
    if (live.size === 0) return messages;
    return messages.map((m) => {
      const text = live.get(m.id);
      return text === undefined || text === m.text ? m : { ...m, text };
    });
  };

  const bootId = randomId('b', 6);
  const watchers = new Set<(sessionId: string, event: ChatEvent) => void>();
  const hub = new EventHub({
    bootId,
    snapshot,
    now,
    bufferSize: deps.eventBufferSize ?? 2000,
    idleMs: deps.eventIdleMs ?? 60_000,
    tap: (sessionId, event) => {
      for (const watcher of watchers) {
        try {
          watcher(sessionId, event);
        } catch (err) {
          logger.error({ sessionId, err: err instanceof Error ? err.message : String(err) }, 'an event watcher threw');
        }
      }
    },
  });
  const rt: AgentRuntime = {
    store,
    hub,
    tools,
    approvals: new Approvals(),
    context: new ContextBuilder({ store, tools, now, budgetTokens: deps.contextBudgetTokens ?? 24_000, logger }),
    resolveProvider: deps.resolveProvider,
    budget: new BudgetGate({ store, notices: deps.notices, bootId, logger }),
    now,
    retry: deps.retry ?? {},
    maxToolIterations: Math.max(1, deps.maxToolIterations ?? 8),
    maxOutputTokens: deps.maxOutputTokens ?? 4096,
    persistIntervalMs: deps.persistIntervalMs ?? 250,
    live,
    logger,
  };
  const runner = new TurnRunner(rt);
  /**
   * What follows a turn's end (the session's list view, the turn's metrics)
   * waits until the turn's last events have left: a socket's frames are
   * flushed in a setImmediate queued with the first of them
   * (gateway/frame-batching.ts), so the client hears the end first. Not
   * awaited by the queue: the session's lane is free at once (a retry sent
   * right after the end runs); `idle()` waits for it.
   */
  const afterTurns = new Set<Promise<void>>();
  const afterTurn = (sessionId: string, messageId: string, durationMs: number): void => {
    const done = new Promise<void>((resolve) =>
      setImmediate(() => {
        try {
          emitSession(rt, sessionId);
          if (deps.onTurnEnd) {
            const message = store.getMessage(messageId);
            deps.onTurnEnd({ sessionId, messageId, durationMs, status: message?.status ?? 'deleted', errorCode: message?.error?.code ?? null });
          }
        } catch (err) {
          // The store may have closed meanwhile (shutdown); the next change publishes the session again.
          logger.warn({ sessionId, messageId, err: err instanceof Error ? err.message : String(err) }, 'could not publish the end of a turn');
        } finally {
          afterTurns.delete(done);
          resolve();
        }
      }),
    );
    afterTurns.add(done);
  };
  const settledAfterTurns = async (): Promise<void> => {
    for (;;) {
      await queue.idle();
      if (afterTurns.size === 0) return;
      await Promise.all([...afterTurns]);
    }
  };
  const queue = new SessionQueue({
    run: async (sessionId, messageId, signal) => {
      const started = now();
      try {
        await runner.run(sessionId, messageId, signal);
      } finally {
        afterTurn(sessionId, messageId, now() - started);
      }
    },
    onError: (err, sessionId, messageId) => {
      logger.error({ sessionId, messageId, err: err instanceof Error ? err.message : String(err) }, 'turn crashed');
    },
    onAllIdle: deps.onIdle,
  });

  const requireSession = (sessionId: string) => {
    const session = store.getSession(sessionId);
    if (!session || deleting.has(sessionId)) throw new AppError('NOT_FOUND', `session ${sessionId} was not found`);
    return session;
  };
  const enqueue = (message: Message) => {
    if (!queue.enqueue(message.sessionId, message.id)) {
      logger.warn({ sessionId: message.sessionId, messageId: message.id }, 'turn not queued (stopping or queued already)');
    }
  };

  return {
    tools,

    async start() {
      const report = store.recover();
      if (report.interruptedTurns + report.interruptedMessages + report.interruptedToolCalls > 0 || report.queued.length > 0) {
        logger.info(
          {
            interruptedTurns: report.interruptedTurns,
            interruptedMessages: report.interruptedMessages,
            interruptedToolCalls: report.interruptedToolCalls,
            requeued: report.queued.length,
          },
          'recovered after an unclean stop',
        );
      }
      for (const message of report.queued) enqueue(message);
      const idleMs = deps.eventIdleMs ?? 60_000;
      sweepTimer = setInterval(() => hub.sweep(), Math.max(1_000, Math.floor(idleMs / 2)));
      sweepTimer.unref();
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      if (sweepTimer) clearInterval(sweepTimer);
      sweepTimer = null;
      writer.close();
      await queue.stop();
      await Promise.all([...afterTurns]);
      hub.close();
    },

    listSessions: () => store.listSessions(),
    listSessionsPage: (opts) => store.listSessionsPage(opts),
    createSession: (input) => store.createSession(input),
    ensureSession: (name, opts) => store.ensureSession(name, opts),

    renameSession(sessionId, title) {
      const session = store.renameSession(sessionId, title);
      hub.emit(sessionId, { type: 'session', session });
      return session;
    },

    async deleteSession(sessionId) {
      requireSession(sessionId);
      deleting.add(sessionId);
      try {
        queue.clear(sessionId);
        queue.cancel(sessionId, 'deleted');
        await queue.sessionIdle(sessionId);
        store.deleteSession(sessionId);
        rt.context.invalidate(sessionId);
        hub.emit(sessionId, { type: 'deleted', sessionId });
        hub.drop(sessionId);
      } finally {
        deleting.delete(sessionId);
      }
    },

    history(sessionId) {
      requireSession(sessionId);
      return withLiveText(store.listMessages(sessionId));
    },

    deleteMessage(messageId) {
      const message = store.getMessage(messageId);
      if (!message) throw new AppError('NOT_FOUND', `message ${messageId} was not found`);
      const running = queue.running(message.sessionId);
      if (running !== null) {
        const inRunningTurn =
          messageId === running || (message.role === 'assistant' && store.turnMessages(running).some((m) => m.id === messageId));
        if (inRunningTurn) throw new AppError('CONFLICT', 'This message belongs to the answer being written; stop it first.');
      }
      queue.remove(message.sessionId, messageId);
      store.deleteMessage(messageId);
      rt.context.invalidate(message.sessionId);
      hub.invalidate(message.sessionId);
      emitSession(rt, message.sessionId);
    },

    send(input) {
      checkSend(input);
      return accept(input.sessionId, store.insertUserMessage(input));
    },

    async sendBatched(input) {
      checkSend(input);
      return accept(input.sessionId, await writer.insertUserMessage(input));
    },

    cancel(sessionId) {
      return queue.cancel(sessionId, 'cancel');
    },

    retry(messageId) {
      if (stopped) throw new AppError('CONFLICT', 'The gateway is shutting down; retry in a moment.');
      const message = store.getMessage(messageId);
      if (!message) throw new AppError('NOT_FOUND', `message ${messageId} was not found`);
      if (deleting.has(message.sessionId)) throw new AppError('NOT_FOUND', `message ${messageId} was not found`);
      if (message.role !== 'user') throw new AppError('BAD_REQUEST', 'Only a user message can be retried');
      if (!RETRYABLE_STATUSES.has(message.status)) {
        throw new AppError('CONFLICT', `This message is ${message.status}; only interrupted, failed or cancelled turns can be retried`);
      }
      const queued = store.setMessageStatus(messageId, 'queued', null);
      rt.context.invalidate(queued.sessionId);
      hub.emit(queued.sessionId, { type: 'message', message: queued });
      enqueue(queued);
      emitSession(rt, queued.sessionId);
      return queued;
    },

    approve(toolCallId, approve, scope: ApprovalScope = 'once') {
      if (rt.approvals.has(toolCallId)) {
        if (approve && scope !== 'once') {
          const call = store.getToolCall(toolCallId);
          const { sessionId } = rt.approvals.sessionOf(toolCallId);
          if (call) tools.grant(call.name, scope, sessionId);
        }
        rt.approvals.answer(toolCallId, approve);
        return;
      }
      const call = store.getToolCall(toolCallId);
      if (!call) throw new AppError('NOT_FOUND', `tool call ${toolCallId} was not found`);
      throw new AppError('CONFLICT', `tool call ${toolCallId} is ${call.status}, not waiting for approval`);
    },

    events(sessionId, lastEventId, signal) {
      return hub.subscribe(sessionId, lastEventId, signal);
    },

    watch(listener) {
      watchers.add(listener);
      return () => watchers.delete(listener);
    },

    idle: settledAfterTurns,

    searchMemories(query, limit) {
      return query && query.trim().length > 0 ? store.searchMemories(query, limit) : store.listMemories(limit);
    },

    deleteMemory(memoryId) {
      if (!store.deleteMemory(memoryId)) throw new AppError('NOT_FOUND', `memory ${memoryId} was not found`);
    },

    usageSummary: () => store.usageSummary(),

    stats() {
      const hubStats = hub.stats();
      return {
        sessionsWithEvents: hubStats.sessions,
        bufferedEvents: hubStats.bufferedEvents,
        subscribers: hubStats.subscribers,
        busySessions: queue.size,
        pendingApprovals: rt.approvals.size,
        liveMessages: live.size,
        cachedHistories: rt.context.cachedSessions,
        queueDepth: queue.depth(),
      };
    },
  };
}
