/**
 * One turn: the model's answer to one user message, through as many rounds
 * of tool calls as it needs (up to `maxToolIterations`). Each provider call is
 * its own assistant message; every text piece is published as a `delta` whose
 * offset is where it starts in that message, and the text is stored
 * throttled. Failures keep what was shown: a retry continues the same message.
 */
import { AppError, formatModelRef, type ErrorInfo, type Message, type MessageStatus, type ModelRef, type ToolCall } from '@autoclaw/shared';
import type { NewToolCall } from '../store/types';
import { assemble, currentTurnTokens, type PastContext, type Summarize } from './context-builder';
import type { CallMeter } from './budget-gate';
import { streamWithRetry, type Provider, type ProviderRequest, type StopReason } from './providers';
import { randomId } from './ids';
import type { AgentRuntime } from './runtime';
import type { AbortCause } from './session-queue';
import { SUMMARY_SYSTEM_PROMPT } from './system-prompt';
import { runToolCalls } from './tool-executor';

const OPEN_TOOL_STATUSES = new Set(['pending', 'running', 'awaiting_approval']);
const SUMMARY_MAX_TOKENS = 1_024;

interface TurnState {
  sessionId: string;
  /** The session's channel, recorded with each provider call's usage. */
  channel: string;
  user: Message;
  signal: AbortSignal;
  /** The turn's assistant messages so far, oldest first (kept current in memory). */
  assistants: Message[];
  /** The assistant message being streamed, if any. */
  streaming: Message | null;
  streamedText: string;
}

/** May this earlier assistant message of the turn be continued rather than followed by a new one? */
function continuable(message: Message | undefined): message is Message {
  return !!message && message.toolCalls.length === 0 && message.status !== 'done';
}

function toolCallId(): string {
  return randomId('tc');
}

/** The tools whose results the call writing `target` reads (those of the turn's message before it), for costs by tool. */
function toolsRead(assistants: readonly Message[], target: Message): string | null {
  const calls = assistants[assistants.findIndex((m) => m.id === target.id) - 1]?.toolCalls ?? [];
  return calls.length === 0 ? null : [...new Set(calls.map((c) => c.name))].sort().join(',');
}

export class TurnRunner {
  constructor(private readonly rt: AgentRuntime) {}

  /** Runs the turn of user message `messageId`; never throws for turn failures (they are stored). The caller publishes the session after it (emitSession). */
  async run(sessionId: string, messageId: string, signal: AbortSignal): Promise<void> {
    const { store } = this.rt;
    const queued = store.getMessage(messageId);
    // Deleted, or handled already (e.g. recovered twice): nothing to run.
    if (!queued || queued.role !== 'user' || queued.status !== 'queued') return;
    const channel = store.getSession(sessionId)?.channel ?? 'webchat';
    const turn: TurnState = { sessionId, channel, user: queued, signal, assistants: [], streaming: null, streamedText: '' };
    try {
      await this.#loop(turn);
    } catch (err) {
      this.#fail(turn, err);
    } finally {
      if (turn.streaming) this.rt.live.delete(turn.streaming.id);
    }
  }

  async #loop(turn: TurnState): Promise<void> {
    const { store, hub, tools, maxToolIterations } = this.rt;
    let resolved: ReturnType<AgentRuntime['resolveProvider']>;
    try {
      resolved = this.rt.resolveProvider();
    } catch (err) {
      this.#markRunning(turn, () => null);
      throw err;
    }
    const { provider, model } = resolved;
    // A fresh turn (the usual case) gets its first assistant message in the commit that marks it running.
    const { stored, fresh } = this.#markRunning(turn, () => {
      const earlier = store.turnMessages(turn.user.id);
      const first = earlier.length === 0 ? store.createAssistantMessage({ sessionId: turn.sessionId, turnId: turn.user.id, model: formatModelRef(model) }) : null;
      return { stored: earlier, fresh: first };
    });
    turn.assistants = this.#closeStaleToolCalls(turn.sessionId, stored);
    let past: PastContext | null = null;

    for (let round = 1; ; round++) {
      const target = this.#startAssistant(turn, model, round === 1 ? fresh : null);
      if (!past) {
        past = await this.rt.context.prepare({
          sessionId: turn.sessionId,
          user: turn.user,
          currentIds: new Set(turn.assistants.map((m) => m.id)),
          currentTokens: currentTurnTokens(turn.user, turn.assistants),
          summarize: this.#summarizer(turn, provider, model),
        });
      }
      const request: ProviderRequest = {
        model: model.model,
        system: past.system,
        messages: assemble(past, turn.user, turn.assistants),
        tools: tools.specs(),
        maxTokens: this.rt.maxOutputTokens,
        signal: turn.signal,
      };
      const meter: CallMeter = { sessionId: turn.sessionId, messageId: target.id, channel: turn.channel, tool: toolsRead(turn.assistants, target) };
      const { calls, persist } = await this.#stream(turn, this.rt.budget.guard(provider, model, meter), target, request);

      if (calls.length === 0) {
        // The answer's last text, its end and the turn's end: one commit, then the events.
        const [answer, user] = this.#commitEnd(turn, persist, () => [this.#storeFinish(turn, 'done'), store.setMessageStatus(turn.user.id, 'done')] as const);
        turn.user = user;
        hub.emit(turn.sessionId, { type: 'message', message: answer });
        hub.emit(turn.sessionId, { type: 'message', message: user });
        this.rt.context.settled(turn.sessionId, [...turn.assistants, user]);
        return;
      }
      const [stored, done] = this.#commitEnd(turn, persist, () => {
        const inserted = store.insertToolCalls(
          target.id,
          calls.map(
            (call): NewToolCall => ({
              id: toolCallId(),
              name: call.name,
              input: JSON.stringify(call.input ?? {}),
              risky: tools.isRisky(call.name),
              status: tools.needsApproval(call.name, turn.sessionId) ? 'awaiting_approval' : 'pending',
            }),
          ),
        );
        return [inserted, this.#storeFinish(turn, 'done')] as const;
      });
      hub.emit(turn.sessionId, { type: 'message', message: done });
      for (const call of stored) hub.emit(turn.sessionId, { type: 'tool', toolCall: call });
      const results = await runToolCalls(this.rt, turn.sessionId, stored, turn.signal);
      this.#replace(turn, { ...done, toolCalls: results });
      if (turn.signal.aborted) throw new AppError('CANCELLED', 'The turn was stopped');
      if (round >= maxToolIterations) {
        this.#note(turn, model, `I stopped after ${maxToolIterations} rounds of tool calls, the limit for one turn. Say "continue" if you want me to go on.`);
        break;
      }
    }
    const user = store.setMessageStatus(turn.user.id, 'done');
    turn.user = user;
    hub.emit(turn.sessionId, { type: 'message', message: user });
  }

  /** Marks the user message running; `alsoStore` runs in the same commit; the event goes out after it. */
  #markRunning<T>(turn: TurnState, alsoStore: () => T): T {
    const [user, extra] = this.rt.store.atomically(() => [this.rt.store.setMessageStatus(turn.user.id, 'running'), alsoStore()] as const);
    turn.user = user;
    this.rt.hub.emit(turn.sessionId, { type: 'message', message: user });
    return extra;
  }

  /** Continues the turn's interrupted last answer, or starts a new assistant message (`made`: one stored already). */
  #startAssistant(turn: TurnState, model: ModelRef, made: Message | null): Message {
    const { store, hub, live } = this.rt;
    const last = turn.assistants[turn.assistants.length - 1];
    let target: Message;
    if (made) {
      target = made;
      turn.assistants.push(target);
    } else if (continuable(last)) {
      target = store.setMessageStatus(last.id, 'streaming');
      this.#replace(turn, target);
    } else {
      target = store.createAssistantMessage({ sessionId: turn.sessionId, turnId: turn.user.id, model: formatModelRef(model) });
      turn.assistants.push(target);
    }
    turn.streaming = target;
    turn.streamedText = target.text;
    live.set(target.id, target.text);
    hub.emit(turn.sessionId, { type: 'message', message: target });
    return target;
  }

  /** Streams one provider call (through the budget gate, which records its usage) into `target`. */
  async #stream(
    turn: TurnState,
    provider: Provider,
    target: Message,
    request: ProviderRequest,
  ): Promise<{ calls: Array<{ name: string; input: unknown }>; stopReason: StopReason | null; persist: () => void }> {
    const { store, hub, live, logger } = this.rt;
    const calls: Array<{ name: string; input: unknown }> = [];
    let stopReason: StopReason | null = null;
    let lastWrite = this.rt.now();
    let stored = target.text;
    const persist = () => {
      if (turn.streamedText === stored) return;
      store.setMessageText(target.id, turn.streamedText);
      stored = turn.streamedText;
      lastWrite = this.rt.now();
    };
    let timer: ReturnType<typeof setTimeout> | null = null;
    let pendingText = '';
    let pendingOffset = 0;
    let flushScheduled: ReturnType<typeof setImmediate> | null = null;
    const publish = (): void => {
      if (flushScheduled !== null) clearImmediate(flushScheduled);
      flushScheduled = null;
      if (pendingText.length === 0) return;
      hub.emit(turn.sessionId, { type: 'delta', messageId: target.id, offset: pendingOffset, text: pendingText });
      pendingText = '';
    };
    try {
      for await (const event of streamWithRetry(provider, request, this.rt.retry)) {
        if (event.type !== 'text') publish();
        if (event.type === 'text') {
          if (event.text.length === 0) continue;
          if (pendingText.length === 0) pendingOffset = turn.streamedText.length;
          pendingText += event.text;
          turn.streamedText += event.text;
          live.set(target.id, turn.streamedText);
          // Pieces of one network read go out as one delta at the end of this tick (a frame per read, not per word).
          flushScheduled ??= setImmediate(publish);
          if (this.rt.now() - lastWrite >= this.rt.persistIntervalMs) persist();
          else if (timer === null) {
            // A pause in the stream must not leave shown text unstored.
            timer = setTimeout(() => {
              timer = null;
              try {
                persist();
              } catch (err) {
                logger.warn({ err: describe(err) }, 'could not store streamed text');
              }
            }, this.rt.persistIntervalMs);
          }
        } else if (event.type === 'tool_call') {
          calls.push({ name: event.name, input: event.input });
        } else if (event.type === 'done') {
          stopReason = event.stopReason;
        }
      }
    } catch (err) {
      publish();
      if (timer !== null) clearTimeout(timer);
      try {
        persist();
      } catch (storeErr) {
        logger.warn({ err: describe(storeErr) }, 'could not store streamed text');
      }
      throw err;
    }
    publish();
    if (timer !== null) clearTimeout(timer);
    // The caller stores the last text together with what ends the call (in one commit).
    const storeLast = (): void => {
      if (turn.streamedText !== stored) store.setMessageText(target.id, turn.streamedText);
    };
    return { calls, stopReason, persist: storeLast };
  }

  #finishAssistant(turn: TurnState, status: MessageStatus, error?: ErrorInfo | null): Message {
    const message = this.#storeFinish(turn, status, error);
    this.rt.hub.emit(turn.sessionId, { type: 'message', message });
    return message;
  }

  /**
   * `work` (store calls) and the call's last text as one commit. When it
   * fails nothing of it was stored: the message is streaming again for #fail,
   * with its text stored on its own.
   */
  #commitEnd<T>(turn: TurnState, storeLast: () => void, work: () => T): T {
    const streaming = turn.streaming;
    try {
      return this.rt.store.atomically(() => {
        storeLast();
        return work();
      });
    } catch (err) {
      if (streaming) {
        turn.streaming = streaming;
        this.#replace(turn, streaming);
        this.rt.live.set(streaming.id, turn.streamedText);
        try {
          storeLast();
        } catch {
          // #fail reports the failure; the text shown stays in memory.
        }
      }
      throw err;
    }
  }

  /** Stores the end of the streaming assistant message (no event: the caller sends it after the commit). */
  #storeFinish(turn: TurnState, status: MessageStatus, error?: ErrorInfo | null): Message {
    const streaming = turn.streaming;
    if (!streaming) throw new AppError('INTERNAL', 'no assistant message is streaming');
    const message = this.rt.store.setMessageStatus(streaming.id, status, error ?? null);
    turn.streaming = null;
    this.rt.live.delete(streaming.id);
    this.#replace(turn, message);
    return message;
  }

  #replace(turn: TurnState, message: Message): void {
    const at = turn.assistants.findIndex((m) => m.id === message.id);
    if (at >= 0) turn.assistants[at] = message;
  }

  /** A note from the gateway (not the model) that ends the turn, e.g. at the tool-round limit. */
  #note(turn: TurnState, model: ModelRef, text: string): void {
    const { store, hub } = this.rt;
    const note = store.createAssistantMessage({ sessionId: turn.sessionId, turnId: turn.user.id, model: formatModelRef(model) });
    store.setMessageText(note.id, text);
    const done = store.setMessageStatus(note.id, 'done');
    turn.assistants.push(done);
    hub.emit(turn.sessionId, { type: 'message', message: done });
  }

  /** Tool calls an earlier attempt left open (crash, stop) are closed so the model sees a result for each. */
  #closeStaleToolCalls(sessionId: string, assistants: Message[]): Message[] {
    return assistants.map((message) => {
      if (!message.toolCalls.some((c) => OPEN_TOOL_STATUSES.has(c.status))) return message;
      const toolCalls = message.toolCalls.map((call): ToolCall => {
        if (!OPEN_TOOL_STATUSES.has(call.status)) return call;
        const closed = this.rt.store.updateToolCall(call.id, { status: 'error', result: 'Interrupted before it finished.' });
        this.rt.hub.emit(sessionId, { type: 'tool', toolCall: closed });
        return closed;
      });
      return { ...message, toolCalls };
    });
  }

  /** A compaction call on the turn's provider and model, budgeted and recorded against the session. */
  #summarizer(turn: TurnState, provider: Provider, model: ModelRef): Summarize {
    const budgeted = this.rt.budget.guard(provider, model, { sessionId: turn.sessionId, messageId: null, channel: turn.channel, tool: null });
    return async (transcript) => {
      let text = '';
      const request: ProviderRequest = {
        model: model.model,
        system: SUMMARY_SYSTEM_PROMPT,
        messages: [{ role: 'user', content: [{ type: 'text', text: transcript }] }],
        tools: [],
        maxTokens: SUMMARY_MAX_TOKENS,
        signal: turn.signal,
      };
      try {
        for await (const event of streamWithRetry(budgeted, request, this.rt.retry)) {
          if (event.type === 'text') text += event.text;
        }
      } catch (err) {
        // A refused summary refuses the turn: its answer would need the budget too.
        if (turn.signal.aborted || !(err instanceof AppError) || err.code === 'BUDGET_EXCEEDED') throw err;
        // Without a summary the turn still runs; the oldest turns are left out of this request only.
        this.rt.logger.warn({ sessionId: turn.sessionId, code: err.code }, 'context summary failed');
        return '';
      }
      return text;
    };
  }

  /** Stores how the turn ended after an error or an abort, keeping every shown word. */
  #fail(turn: TurnState, err: unknown): void {
    const { store, hub, logger } = this.rt;
    const cause = turn.signal.aborted ? (turn.signal.reason as AbortCause) : null;
    let userStatus: MessageStatus;
    let assistantStatus: MessageStatus;
    let error: ErrorInfo | null;
    if (cause === 'cancel' || cause === 'deleted') {
      userStatus = assistantStatus = 'cancelled';
      error = null;
    } else if (cause !== null) {
      userStatus = assistantStatus = 'interrupted';
      error = { code: 'CANCELLED', message: 'The gateway stopped during this answer; retry to continue it.' };
    } else {
      error = errorInfo(err);
      if (error.code === 'INTERNAL') logger.error({ sessionId: turn.sessionId, err: describe(err) }, 'turn failed');
      const shownNow = turn.streaming !== null && turn.streamedText.length > 0;
      const shownInTurn = shownNow || turn.assistants.some((m) => m.text.length > 0 || m.toolCalls.length > 0);
      assistantStatus = shownNow ? 'interrupted' : 'failed';
      userStatus = shownInTurn ? 'interrupted' : 'failed';
    }
    try {
      if (turn.streaming) this.#finishAssistant(turn, assistantStatus, error);
      const user = store.setMessageStatus(turn.user.id, userStatus, error);
      turn.user = user;
      hub.emit(turn.sessionId, { type: 'message', message: user });
    } catch (storeErr) {
      // The session or message may be gone (deleted mid-turn); nothing else to record.
      logger.warn({ sessionId: turn.sessionId, err: describe(storeErr) }, 'could not store the end of a failed turn');
    }
  }
}

function errorInfo(err: unknown): ErrorInfo {
  if (err instanceof AppError) return err.toInfo();
  return { code: 'INTERNAL', message: 'Something went wrong while answering; retry, and check the gateway log if it persists.' };
}

function describe(err: unknown): string {
  if (err instanceof AppError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

