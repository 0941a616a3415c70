/**
 * The agent's public surface, used by the gateway's router and the channels.
 * `ChatService` owns sessions, the per-session turn queue, the tool loop and
 * the live event stream.
 */
import type { ApprovalScope, ChatEvent, ChatSendResult, Memory, Message, Session, SessionPage, UsageSummary } from '@autoclaw/shared';

export interface SendInput {
  sessionId: string;
  clientId: string;
  text: string;
}

/** One event of a session's stream with its resumable id (for tRPC `tracked`). */
export interface TrackedEvent {
  id: string;
  event: ChatEvent;
}

export interface ChatService {
  start(): Promise<void>;
  /** Cancels running turns (their answers are marked interrupted) and stops timers. */
  stop(): Promise<void>;

  listSessions(): Session[];
  /** A page of sessions, newest first (see Store.listSessionsPage). */
  listSessionsPage(opts: { limit: number; cursor?: string }): SessionPage;
  createSession(input: { name?: string; title?: string }): Session;
  /** The session with that name, made on first use (in `opts.channel`, default 'webchat'). */
  ensureSession(name: string, opts?: { channel?: string }): Session;
  renameSession(sessionId: string, title: string): Session;
  /** Cancels the session's turn, then deletes it. */
  deleteSession(sessionId: string): Promise<void>;
  history(sessionId: string): Message[];
  deleteMessage(messageId: string): void;

  /** Stores the message (deduped on clientId) in its own commit, then queues its turn. */
  send(input: SendInput): ChatSendResult;
  /**
   * The same through the group commit: messages that arrive together share
   * one commit; each resolves only after the commit that holds it. The
   * control plane uses this one.
   */
  sendBatched(input: SendInput): Promise<ChatSendResult>;
  /** Cancels the running turn of the session; returns false when none ran. */
  cancel(sessionId: string): boolean;
  /** Queues an interrupted or failed turn again. */
  retry(messageId: string): Message;
  /**
   * Answers a tool call that waits for approval. A yes with scope `session`
   * or `always` also approves later calls of the tool (in this conversation,
   * or anywhere) until the approval is revoked.
   */
  approve(toolCallId: string, approve: boolean, scope?: ApprovalScope): void;

  /**
   * The session's events. Without `lastEventId` (or when it can no longer be
   * resumed from) the first event is a `sync` snapshot. Ends when `signal` aborts.
   */
  events(sessionId: string, lastEventId: string | null, signal: AbortSignal): AsyncIterable<TrackedEvent>;

  /**
   * Calls `listener` with every event of every session as it happens (channel
   * delivery follows answers this way); returns the unsubscribe. A listener
   * must not throw (what it throws is logged and dropped) nor block.
   */
  watch(listener: (sessionId: string, event: ChatEvent) => void): () => void;

  /** Resolves when no turn is running or queued (used for graceful drain). */
  idle(): Promise<void>;

  searchMemories(query: string | undefined, limit: number): Memory[];
  deleteMemory(memoryId: string): void;
  usageSummary(): UsageSummary;
}
