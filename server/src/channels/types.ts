/**
 * The channel seam: what a channel adapter is given (ChannelContext) and what
 * it provides (ChannelAdapter). A channel's folder exports a light
 * ChannelDefinition (no SDK import); `load()` imports the SDK and the adapter
 * only when the channel is enabled. See index.ts for the design note.
 */
import type { ChannelName, ChannelSettingKey } from '@autoclaw/shared';
import type { Logger } from '../agent';

/** A platform conversation: where the answers of one session go. Stored as JSON per session. */
export interface ConversationRef {
  /** The platform's chat / channel / room id. */
  id: string;
  kind: 'dm' | 'group';
  /** A thread inside it (Telegram topic, Slack thread_ts, Matrix thread root, Mattermost root post). */
  thread?: string;
  /** Whatever else a reply needs (e.g. a Teams serviceUrl): strings only. */
  extra?: Record<string, string>;
}

export interface Sender {
  /** The platform's user id (what `<channel>.allowFrom` lists). */
  id: string;
  /** A display name, for the Channels page and session titles. */
  name: string;
}

export interface InboundAttachment {
  /** The file name the platform gives (the host makes it safe). */
  name: string;
  mimeType?: string;
  /** Bytes, when the platform says (files over the limit are not fetched). */
  size?: number;
  /** Fetches the bytes; the host calls it at most once, with a time limit. */
  download(signal: AbortSignal): Promise<Uint8Array>;
}

/** One platform message, as the adapter hands it to the host. */
export interface InboundMessage {
  /** The platform's id of this message, unique within the channel: the dedupe key. */
  platformId: string;
  conversation: ConversationRef;
  /** A title for a new session (a group's name). */
  conversationTitle?: string;
  sender: Sender;
  text: string;
  attachments?: InboundAttachment[];
  /** In a group: the bot was mentioned, or the message replies to the bot. Ignored in DMs. */
  addressed?: boolean;
  /** The platform message an answer should reply to (groups). */
  replyTo?: string;
}

/**
 * What became of an inbound message: stored (a turn is queued), a duplicate
 * of one stored before, answered with a pairing code, a command (an approval
 * answer), or ignored (not addressed, not allowed, empty).
 */
export type ReceiveResult = 'stored' | 'duplicate' | 'pairing' | 'command' | 'ignored';

export interface OutboundText {
  text: string;
  /** Reply to this platform message (when the platform threads replies). */
  replyTo?: string;
}

export interface OutboundFile {
  /** Absolute path of the file (inside the workspace). */
  path: string;
  name: string;
  mimeType: string;
  caption?: string;
}

export interface ApprovalPrompt {
  toolCallId: string;
  /** Short code for a reply command ("approve CODE" / "deny CODE"). */
  code: string;
  /** e.g. "Allow workspace_write_file?" */
  title: string;
  /** The call's input, shortened. */
  detail: string;
}

/** How a platform limits what the host sends. */
export interface ChannelLimits {
  /** Longest text one platform message holds; longer answers are split. */
  maxTextChars: number;
  /** Least time between two edits of one streaming message. */
  editIntervalMs: number;
  /** How often a typing indicator must be renewed while a turn runs (0: none). */
  typingIntervalMs: number;
}

/** A route under /channels/<name>/… (webhooks, inbound HTTP endpoints). */
export interface ChannelHttpRequest {
  method: string;
  /** The path after /channels/<name> (e.g. "/webhook"). */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** The raw body, for signature checks. */
  body: Buffer;
}

export interface ChannelHttpResponse {
  status: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON. */
  body?: string | Buffer | object;
}

export type ChannelRouteHandler = (request: ChannelHttpRequest) => Promise<ChannelHttpResponse>;

/** Knobs tests and benchmarks turn (real deployments use the defaults). */
export interface ChannelTuning {
  /** Long-poll timeout in seconds (Telegram getUpdates, Matrix /sync). */
  pollTimeoutSec?: number;
  /** Liveness limit before the platform's own heartbeat tells better. */
  livenessMs?: number;
  /** Overrides the platform's edit interval. */
  editIntervalMs?: number;
}

/** What the host gives a channel run. Every callback is safe to call from SDK handlers. */
export interface ChannelContext {
  readonly name: ChannelName;
  /** A setting of this channel (secrets decrypted); read at start of each run. */
  setting(key: ChannelSettingKey): string | null;
  readonly tuning: ChannelTuning;
  /** Aborted when this run ends (stop, restart, failure): abort every request with it. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  now(): number;
  /**
   * The platform itself proved the connection alive (a long-poll round, a
   * heartbeat ack, a sync response). `limitMs`: when the next proof is due
   * at the latest (e.g. from the platform's heartbeat interval).
   */
  alive(limitMs?: number): void;
  /** The platform told how often it proves itself (a heartbeat interval): the limit from now on, without counting as a proof. */
  livenessLimit(limitMs: number): void;
  /** This run cannot go on: the host stops it and reconnects with backoff (AppError UNAUTHORIZED/FORBIDDEN/NOT_CONFIGURED: down). */
  fail(err: unknown): void;
  /** Wraps an SDK event handler: a throw or rejection inside fails the run instead of escaping. */
  guard<A extends unknown[]>(fn: (...args: A) => unknown): (...args: A) => void;
  /** Stores an inbound message (resolves after the commit: acknowledge the platform after it). */
  receive(message: InboundMessage): Promise<ReceiveResult>;
  /** A button answer to an approval prompt; false when nothing waits under that id or the sender may not answer. */
  answerApproval(toolCallId: string, approve: boolean, from: Sender): Promise<boolean>;
  /**
   * Serves `method path` under /channels/<name> while this run lives. The
   * route is exempt from device auth: the handler must authenticate each
   * request itself (signature, secret token, JWT) and answer only after
   * `receive` resolved.
   */
  route(method: 'GET' | 'POST' | 'PUT', path: string, handler: ChannelRouteHandler): void;
  /** Small durable values (offsets, sync tokens); the secret ones are encrypted with the data key. */
  readonly state: ChannelStateStore;
  /** A pairing QR payload for the app to render (null clears it). */
  showQr(payload: string | null): void;
  /** The account this channel is linked as (e.g. the phone number a QR link gave), for the Channels page; null clears it. */
  showAccount(account: string | null): void;
}

export interface ChannelStateStore {
  get(key: string): string | null;
  set(key: string, value: string | null): void;
  getSecret(key: string): string | null;
  setSecret(key: string, value: string | null): void;
}

/**
 * One connection to a platform. Outbound calls throw AppError: RATE_LIMITED
 * (with `details.retryAfterMs` from the platform's headers) is retried after
 * that delay; BAD_REQUEST, FORBIDDEN, NOT_FOUND and PAYLOAD_TOO_LARGE are
 * final; anything else is retried with backoff.
 */
export interface ChannelAdapter {
  readonly limits: ChannelLimits;
  /** Connects; resolves once the platform accepted the connection (login, READY, first sync). */
  start(): Promise<void>;
  /** Disconnects and frees every socket, timer and child process. */
  stop(): Promise<void>;
  sendText(to: ConversationRef, message: OutboundText, signal: AbortSignal): Promise<{ id: string }>;
  /** Without it answers are sent whole when they end (no streaming). */
  editText?(to: ConversationRef, messageId: string, text: string, signal: AbortSignal): Promise<void>;
  sendTyping?(to: ConversationRef, signal: AbortSignal): Promise<void>;
  sendFile?(to: ConversationRef, file: OutboundFile, signal: AbortSignal): Promise<{ id: string }>;
  /** Buttons; without it the prompt is text with a reply command. */
  sendApproval?(to: ConversationRef, prompt: ApprovalPrompt, signal: AbortSignal): Promise<{ id: string }>;
}

export type ChannelFactory = (ctx: ChannelContext) => ChannelAdapter;

/** A channel as the registry knows it before its SDK is loaded. */
export interface ChannelDefinition {
  name: ChannelName;
  label: string;
  /** Settings that must be set before it can run. */
  required: readonly ChannelSettingKey[];
  /** Settings whose change restarts a running channel (connection settings). */
  connection: readonly ChannelSettingKey[];
  /** Liveness limit until the platform's heartbeat says otherwise. */
  livenessMs: number;
  /**
   * The setting that puts the channel in webhook mode (the platform calls the
   * instance through the manager's door, which wakes it): with it set the
   * instance may sleep. Without one, an enabled channel keeps its instance awake.
   */
  sleepsWith?: ChannelSettingKey;
  /** Imports the SDK and the adapter (only when the channel runs). */
  load(): Promise<ChannelFactory>;
}
