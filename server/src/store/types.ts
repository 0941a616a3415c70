/**
 * The store's public surface. Everything durable in a gateway goes through
 * this interface; the implementation is SQLite (better-sqlite3 12, WAL).
 * Every write method returns only after its transaction committed.
 */
import type { ChannelStore } from './channel-types';
import type { AppError, DeviceRole, ErrorInfo, GatewayAuditAction, GatewayAuditEntry, Memory, Notice, NoticeInput, Message, MessageStatus, Session, SessionPage, ToolCall, ToolCallStatus, TokenUsage, UsageSummary } from '@autoclaw/shared';
import type { BudgetPatch, BudgetStatus, CapSource, PlanCaps, UsageLedger, UsageLedgerQuery, UsagePage } from '@autoclaw/shared';

export interface InsertUserMessage {
  sessionId: string;
  clientId: string;
  text: string;
}

export interface InsertUserMessageResult {
  message: Message;
  /** True when a message with this clientId already existed (nothing written). */
  duplicate: boolean;
}

/** One item of a group commit: its result, or why it was refused. */
export type InsertUserMessageOutcome =
  | { ok: true; result: InsertUserMessageResult }
  | { ok: false; error: AppError };

export interface NewToolCall {
  id: string;
  name: string;
  /** JSON text of the input. */
  input: string;
  risky: boolean;
  status: ToolCallStatus;
}

export interface UsageRecord {
  sessionId: string;
  messageId: string | null;
  provider: string;
  model: string;
  usage: TokenUsage;
  /** null when the model is unpriced. */
  costMicros: number | null;
  /** The session's channel at the time of the call (default 'webchat'). */
  channel?: string;
  /** The tool(s) whose results the call read, names joined by "," (null: none). */
  tool?: string | null;
  /** The call's budget reservation, settled (deleted) in the same transaction. */
  reservationId?: number;
}

/** A soft budget line the spend is past (after a usage insert), for a once-per-period notice. */
export interface SoftLine {
  cap: 'daily' | 'monthly';
  /** 'YYYY-MM-DD' or 'YYYY-MM' in `timeZone`. */
  period: string;
  percent: number;
  spentMicros: number;
  limitMicros: number;
  source: CapSource;
  timeZone: string;
}

/** A provider call's worst case, held against the caps until its usage is recorded. */
export interface BudgetReservationInput {
  /** The process making it (diagnostics; every reservation is cleared at start). */
  bootId: string;
  sessionId: string | null;
  /** Worst-case cost; null for an unpriced model. */
  micros: number | null;
  /** Worst-case tokens (prompt + max output). */
  tokens: number;
}

export interface SummaryRecord {
  sessionId: string;
  /** The newest message (by seq) the summary covers. */
  uptoSeq: number;
  text: string;
  createdAt: number;
}

export interface DeviceRecord {
  id: string;
  name: string;
  kind: 'operator' | 'client' | 'manager';
  /** What the device may do (operator and manager devices are always owners). */
  role: DeviceRole;
  /** base64url raw Ed25519 public key. */
  publicKey: string;
  createdAt: number;
  lastSeenAt: number | null;
  revokedAt: number | null;
}

/** A device as registered (the store sets the times). */
export type NewDevice = Omit<DeviceRecord, 'createdAt' | 'lastSeenAt' | 'revokedAt'>;

/** One audit entry to append (the store sets seq and time). Never a secret value. */
export interface NewAuditEntry {
  /** null: the local CLI working on the data directory itself. */
  deviceId: string | null;
  action: GatewayAuditAction;
  target: string;
  oldValue?: string | null;
  newValue?: string | null;
  detail?: string | null;
}

/** What `recover()` found and repaired after an unclean stop. */
export interface RecoveryReport {
  interruptedTurns: number;
  interruptedMessages: number;
  interruptedToolCalls: number;
  /** User messages still queued, oldest first, to run again. */
  queued: Message[];
  /** Budget reservations of calls that never settled (their process died). */
  releasedReservations: number;
}

export interface ToolApprovalRecord {
  id: string;
  tool: string;
  scope: 'session' | 'always';
  sessionId: string | null;
  createdAt: number;
}

export interface SkillDocument {
  skill: string;
  /** Path of the document as the skill names it (e.g. "notes/ideas.md"). */
  path: string;
  /** A short extract around the words found. */
  snippet: string;
  updatedAt: number;
}

export type * from './channel-types';

export interface Store extends ChannelStore {
  /* sessions */
  /** `channel` defaults to 'webchat' (the control plane); chat channels pass their name. */
  createSession(input: { name?: string; title?: string; channel?: string }): Session;
  /** Returns the session with that name, creating it on first use (in `channel`, default 'webchat'). */
  ensureSession(name: string, opts?: { channel?: string }): Session;
  getSession(id: string): Session | null;
  /** Every session, newest first (offline tools; clients page with listSessionsPage). */
  listSessions(): Session[];
  /**
   * At most `limit` sessions, newest first (last activity, then creation,
   * then id), after the one `cursor` (an earlier `nextCursor`) points at.
   * Keyset paging: sessions made meanwhile are newer and never shift a walk.
   * BAD_REQUEST for a cursor this store did not make.
   */
  listSessionsPage(opts: { limit: number; cursor?: string }): SessionPage;
  renameSession(id: string, title: string): Session;
  /** Deletes the session with its messages, tool calls, summaries (usage rows keep a null session). */
  deleteSession(id: string): boolean;

  /* messages */
  /** Idempotent on clientId: a retry returns the stored message with duplicate=true. */
  insertUserMessage(input: InsertUserMessage): InsertUserMessageResult;
  /**
   * Group commit: many user messages in ONE transaction (same rules as
   * insertUserMessage, item by item; a refused item does not stop the others).
   * One commit per batch instead of per message is what lets a busy gateway
   * acknowledge tens of thousands of messages per second; see group-commit.ts.
   */
  insertUserMessages(inputs: InsertUserMessage[]): InsertUserMessageOutcome[];
  createAssistantMessage(input: { sessionId: string; turnId: string; model: string }): Message;
  /** Persists streamed text so far (whole text, not a delta). */
  setMessageText(id: string, text: string): void;
  /** Sets the status and its error; leaving `error` out clears any earlier error. */
  setMessageStatus(id: string, status: MessageStatus, error?: ErrorInfo | null): Message;
  getMessage(id: string): Message | null;
  /** Messages of a session in order (with tool calls and usage). */
  listMessages(sessionId: string, opts?: { afterSeq?: number; limit?: number }): Message[];
  /** seq of a message: its position in the session's order. */
  messageSeq(id: string): number | null;
  /** Assistant messages (and tool calls) produced by the turn of `turnId` (the user message id). */
  turnMessages(turnId: string): Message[];
  deleteMessage(id: string): boolean;
  /** Oldest queued user message of a session, if any. */
  nextQueued(sessionId: string): Message | null;

  /* tool calls */
  insertToolCalls(messageId: string, calls: NewToolCall[]): ToolCall[];
  updateToolCall(id: string, patch: { status: ToolCallStatus; result?: string | null }): ToolCall;
  getToolCall(id: string): ToolCall | null;

  /* usage */
  /** Records the call (settling its reservation); returns the soft budget lines the spend is now past. */
  recordUsage(record: UsageRecord): SoftLine[];
  /** Like recordUsage, settled in memory: the row is written by the next store call or batched write (budgetDurable). */
  settleBudget(record: UsageRecord): SoftLine[];
  usageSummary(opts?: { sessionId?: string; since?: number }): UsageSummary;
  /** Totals grouped by local day, model, session, channel and/or tool (validated; BAD_REQUEST otherwise). */
  usageLedger(query: UsageLedgerQuery): UsageLedger;
  /** Usage rows with id > after, oldest first (the manager's cursor). */
  usagePage(after: number, limit: number): UsagePage;

  /* budgets */
  budgetStatus(): BudgetStatus;
  /** Changes the user's caps (fields left out stay; each change audited as `actor`'s); FORBIDDEN above the plan's caps. */
  setBudgetCaps(patch: BudgetPatch, opts?: { actor?: string | null }): BudgetStatus;
  /** Replaces the plan's caps (the manager's; audited). */
  setPlanCaps(caps: { dailyMicros: number | null; monthlyMicros: number | null; reason: string | null; creditMicros?: number | null; creditAfter?: number }, opts?: { actor?: string | null }): PlanCaps;
  /** Holds a call's worst case; returns the reservation id, or throws BUDGET_EXCEEDED (nothing held). Returns after its commit. */
  reserveBudget(input: BudgetReservationInput): number;
  /**
   * The agent's check: decides and holds in memory, no commit (the row follows
   * in a batched write, see budgetDurable); throws BUDGET_EXCEEDED (nothing held).
   */
  holdBudget(input: BudgetReservationInput): number;
  /** Resolves once every hold and settlement made so far is committed. */
  budgetDurable(): Promise<void>;
  /** Ends a reservation whose call recorded no usage; false when it was gone. */
  releaseBudget(id: number): boolean;

  /* memory (FTS5) */
  saveMemory(text: string): Memory;
  searchMemories(query: string, limit: number): Memory[];
  listMemories(limit: number): Memory[];
  deleteMemory(id: string): boolean;

  /* summaries (context compaction; older messages are never deleted) */
  latestSummary(sessionId: string): SummaryRecord | null;
  saveSummary(record: Omit<SummaryRecord, 'createdAt'>): SummaryRecord;

  /* devices and pairing */
  insertDevice(device: NewDevice): DeviceRecord;
  getDevice(id: string): DeviceRecord | null;
  listDevices(): DeviceRecord[];
  /** Revokes (keeping the first revocation time) and appends `audit` in the same transaction. */
  revokeDevice(id: string, audit?: NewAuditEntry): DeviceRecord | null;
  /** Changes a device's role and appends `audit` in the same transaction; null when there is no such device. */
  setDeviceRole(id: string, role: DeviceRole, audit?: NewAuditEntry): DeviceRecord | null;
  touchDevice(id: string): void;
  /** Stores the SHA-256 (hex) of a one-time pairing code and the role it pairs with (null: decided at pairing). */
  addPairingCode(codeHash: string, expiresAt: number, role?: DeviceRole | null): void;
  /** Atomically marks the code used; null when unknown, used or expired, else the role it carries. */
  consumePairingCode(codeHash: string, now: number): { role: DeviceRole | null } | null;

  /* pairing tickets */
  /**
   * Records a pairing ticket's id as used and, in the same transaction,
   * registers `device` when given and not registered yet. False (nothing
   * written) when the id was used before.
   */
  useTicket(jti: string, expiresAt: number, device?: NewDevice): boolean;

  /* notices */
  /** Stores a notice; null (nothing written) when its key was used before. */
  addNotice(input: NoticeInput): Notice | null;
  /** Newest first. */
  listNotices(opts: { limit: number; unreadOnly?: boolean }): Notice[];
  /** Notices with seq greater than `seq`, oldest first (at most `limit`). */
  noticesAfter(seq: number, limit: number): Notice[];
  /** Marks notices read (all unread ones when `ids` is 'all'); returns how many changed. */
  markNoticesRead(ids: readonly string[] | 'all'): number;
  unreadNotices(): number;

  /* settings (values of secret keys arrive already encrypted) */
  getSetting(key: string): string | null;
  setSetting(key: string, value: string | null): void;
  /** Sets (or, with null, deletes) several settings and appends `audit`, all in one transaction. */
  changeSettings(changes: ReadonlyArray<{ key: string; value: string | null }>, audit: readonly NewAuditEntry[]): void;
  /**
   * Changes whenever settings may have changed: a write through this store,
   * or any commit by another connection (`PRAGMA data_version`, e.g. the CLI
   * beside a running gateway). Equal values: nothing changed in between.
   */
  settingsVersion(): string;

  /* audit log (append-only) */
  appendAudit(entry: NewAuditEntry): GatewayAuditEntry;
  /** Newest first; `beforeSeq` continues a page. */
  listAudit(opts: { limit: number; beforeSeq?: number }): GatewayAuditEntry[];

  /* standing approvals of risky tools */
  /** Records a standing approval (idempotent: the same grant twice is one row). */
  addToolApproval(input: { tool: string; scope: 'session' | 'always'; sessionId: string | null }): ToolApprovalRecord;
  /** Is `tool` approved for every call, or for calls in `sessionId`? */
  hasToolApproval(tool: string, sessionId: string): boolean;
  listToolApprovals(): ToolApprovalRecord[];
  deleteToolApproval(id: string): boolean;

  /* documents skills index (FTS5) */
  putSkillDocument(skill: string, path: string, text: string): void;
  deleteSkillDocument(skill: string, path: string): boolean;
  /** Best matches first; `skill` limits the search to one skill's documents. */
  searchSkillDocuments(query: string, limit: number, skill?: string): SkillDocument[];

  /* lifecycle */
  /** After an unclean stop: running turns → interrupted, streaming → interrupted. */
  recover(): RecoveryReport;
  /**
   * Runs `fn` — synchronous, store calls only — as ONE transaction: its
   * writes commit together or not at all (the end of a turn is one commit,
   * not three). Calls inside nest as savepoints.
   */
  atomically<T>(fn: () => T): T;
  /** Deterministic text dump of every table, for before/after comparisons in tests. */
  dump(): string;
  close(): void;
}
