import { z } from 'zod';
import { CHANNEL_SECRET_SETTINGS, CHANNEL_SETTING_KEYS } from './channels';
import { ERROR_CODES } from './errors';
import { LIMITS } from './limits';
import { ApprovalScope } from './skills';

/* ---------- identifiers ---------- */

/** Server-made ids: lowercase alphanumerics, dashes, underscores. */
export const Id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'not a valid id');
export const ClientId = z
  .string()
  .min(8)
  .max(LIMITS.clientIdChars)
  .regex(/^[A-Za-z0-9_-]+$/, 'client ids are 8–64 characters of A–Z, a–z, 0–9, _ and -');
export const SessionName = z
  .string()
  .trim()
  .min(1)
  .max(LIMITS.sessionNameChars)
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  .regex(/^[^\u0000-\u001f]+$/, 'no control characters');

export const ErrorInfoSchema = z.object({ code: z.enum(ERROR_CODES), message: z.string() });

/* ---------- domain ---------- */

export const SessionSchema = z.object({
  id: Id,
  name: z.string(),
  title: z.string(),
  /** 'webchat' (WebChat, the desktop app, the CLI) or the chat channel the session belongs to. */
  channel: z.string(),
  createdAt: z.number(),
  updatedAt: z.number(),
  /** Text of the newest message, shortened, for the sessions list. */
  preview: z.string(),
  /** A turn is queued or running in this session. */
  busy: z.boolean(),
});
export type Session = z.infer<typeof SessionSchema>;

/**
 * User messages carry the status of the turn they start; assistant messages
 * the status of their own stream.
 */
export const MessageStatus = z.enum(['queued', 'running', 'streaming', 'done', 'interrupted', 'failed', 'cancelled']);
export type MessageStatus = z.infer<typeof MessageStatus>;

export const ToolCallStatus = z.enum(['pending', 'awaiting_approval', 'running', 'done', 'error', 'denied']);
export type ToolCallStatus = z.infer<typeof ToolCallStatus>;

export const ToolCallSchema = z.object({
  id: Id,
  messageId: Id,
  name: z.string(),
  /** JSON text of the tool's input. */
  input: z.string(),
  status: ToolCallStatus,
  /** Tool output (or the error) as text; null until finished. */
  result: z.string().nullable(),
  risky: z.boolean(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type ToolCall = z.infer<typeof ToolCallSchema>;

export const UsageSchema = z.object({
  provider: z.string(),
  model: z.string(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  cacheReadTokens: z.number().int(),
  cacheWriteTokens: z.number().int(),
  /** Integer micro-dollars; null when the model is unpriced. */
  costMicros: z.number().int().nullable(),
});
export type Usage = z.infer<typeof UsageSchema>;

export const MessageSchema = z.object({
  id: Id,
  sessionId: Id,
  /** Position in the store's insertion order (increasing, never reused). */
  seq: z.number().int(),
  /**
   * For assistant messages: the user message whose turn produced it; null for
   * user messages. A message sent during a turn is stored before that turn's
   * later answers, so clients show a turn's answers right after its message.
   */
  turnId: z.string().nullable(),
  role: z.enum(['user', 'assistant']),
  text: z.string(),
  clientId: z.string().nullable(),
  status: MessageStatus,
  error: ErrorInfoSchema.nullable(),
  /** For assistant messages: `provider:model`. */
  model: z.string().nullable(),
  toolCalls: z.array(ToolCallSchema),
  usage: UsageSchema.nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type Message = z.infer<typeof MessageSchema>;

export const MemorySchema = z.object({ id: Id, text: z.string(), createdAt: z.number() });
export type Memory = z.infer<typeof MemorySchema>;

/**
 * What a device may do: `owner` devices (and the local operator and the
 * manager device) change settings, keys and devices; `chat` devices chat,
 * see sessions and approve tool calls, nothing more.
 */
export const DEVICE_ROLES = ['owner', 'chat'] as const;
export const DeviceRole = z.enum(DEVICE_ROLES);
export type DeviceRole = z.infer<typeof DeviceRole>;

export const DeviceSchema = z.object({
  id: Id,
  name: z.string(),
  kind: z.enum(['operator', 'client', 'manager']),
  role: DeviceRole,
  createdAt: z.number(),
  lastSeenAt: z.number().nullable(),
  revokedAt: z.number().nullable(),
  /** True for the device asking. */
  current: z.boolean(),
});
export type Device = z.infer<typeof DeviceSchema>;

/* ---------- stream events (chat.events subscription) ---------- */

export const ChatEventSchema = z.discriminatedUnion('type', [
  /** Full state of the session; the client replaces what it has. */
  z.object({ type: z.literal('sync'), session: SessionSchema, messages: z.array(MessageSchema) }),
  /** A message was created or changed (upsert by id). */
  z.object({ type: z.literal('message'), message: MessageSchema }),
  /**
   * Streamed text of an assistant message. `offset` is where `text` starts in
   * the message, so a client applies a delta only when offset equals the length
   * it has: replays never duplicate text.
   */
  z.object({ type: z.literal('delta'), messageId: Id, offset: z.number().int().nonnegative(), text: z.string() }),
  /** A tool call was created or changed (upsert by id). */
  z.object({ type: z.literal('tool'), toolCall: ToolCallSchema }),
  /** The session's own fields changed (title, busy). */
  z.object({ type: z.literal('session'), session: SessionSchema }),
  /** The session was deleted. */
  z.object({ type: z.literal('deleted'), sessionId: Id }),
]);
export type ChatEvent = z.infer<typeof ChatEventSchema>;

/* ---------- settings ---------- */

export const SETTING_KEYS = [
  'model',
  'anthropic.apiKey',
  'anthropic.baseUrl',
  'openai.apiKey',
  'openai.baseUrl',
  'openaiCompatible.url',
  'openaiCompatible.apiKey',
  ...CHANNEL_SETTING_KEYS,
] as const;
export const SettingKey = z.enum(SETTING_KEYS);
export type SettingKey = z.infer<typeof SettingKey>;
/** Settings whose values are secrets: stored encrypted, never returned. */
export const SECRET_SETTINGS: readonly SettingKey[] = ['anthropic.apiKey', 'openai.apiKey', 'openaiCompatible.apiKey', ...CHANNEL_SECRET_SETTINGS];

export const SettingSourceSchema = z.enum(['env', 'stored', 'default', 'unset']);
export const SettingsViewSchema = z.object({
  model: z.string(),
  modelSource: SettingSourceSchema,
  /** For each key: where its value comes from; secrets report only whether set. */
  values: z.record(z.string(), z.object({ source: SettingSourceSchema, value: z.string().nullable() })),
});
export type SettingsView = z.infer<typeof SettingsViewSchema>;

/** The settings whose value is a provider endpoint, each with the key that goes with it. */
export const ENDPOINT_KEY_OF: Readonly<Partial<Record<SettingKey, SettingKey>>> = {
  'anthropic.baseUrl': 'anthropic.apiKey',
  'openai.baseUrl': 'openai.apiKey',
  'openaiCompatible.url': 'openaiCompatible.apiKey',
};

/* ---------- procedure inputs and outputs ---------- */

export const SessionRef = z.object({ sessionId: Id }).strict();

/** sessions.list pages: at most this many sessions per call (the default is SESSIONS_PAGE_DEFAULT). */
export const SESSIONS_PAGE_MAX = 100;
export const SESSIONS_PAGE_DEFAULT = 50;

export const ProcedureInputs = {
  /** Newest first; `cursor` is the `nextCursor` of the previous page. */
  sessionsList: z
    .object({ limit: z.number().int().min(1).max(SESSIONS_PAGE_MAX).optional(), cursor: z.string().min(1).max(200).optional() })
    .strict()
    .optional(),
  sessionsCreate: z.object({ name: SessionName.optional(), title: SessionName.optional() }).strict(),
  sessionsEnsure: z.object({ name: SessionName }).strict(),
  sessionsDelete: SessionRef,
  sessionsRename: z.object({ sessionId: Id, title: SessionName }).strict(),
  chatHistory: SessionRef,
  chatSend: z
    .object({
      sessionId: Id,
      clientId: ClientId,
      text: z.string().min(1, 'message is empty').max(LIMITS.messageChars, `message is longer than ${LIMITS.messageChars} characters`),
    })
    .strict(),
  chatCancel: SessionRef,
  chatRetry: z.object({ messageId: Id }).strict(),
  chatApprove: z.object({ toolCallId: Id, approve: z.boolean(), scope: ApprovalScope.optional() }).strict(),
  chatEvents: z.object({ sessionId: Id, lastEventId: z.string().max(64).nullish() }).strict(),
  messagesDelete: z.object({ messageId: Id }).strict(),
  memorySearch: z.object({ query: z.string().max(500).optional(), limit: z.number().int().min(1).max(200).optional() }).strict(),
  memoryDelete: z.object({ memoryId: Id }).strict(),
  /**
   * `apiKey` only with an endpoint key (anthropic.baseUrl, openai.baseUrl,
   * openaiCompatible.url): the key that goes with the new endpoint, stored in
   * the same change; without it, changing an endpoint clears the stored key.
   */
  settingsSet: z
    .object({
      key: SettingKey,
      value: z.string().max(LIMITS.settingChars).nullable(),
      apiKey: z.string().max(LIMITS.settingChars).nullable().optional(),
    })
    .strict(),
  devicesRevoke: z.object({ deviceId: Id }).strict(),
  devicesSetRole: z.object({ deviceId: Id, role: DeviceRole }).strict(),
  auditList: z.object({ limit: z.number().int().min(1).max(100).optional(), cursor: z.string().max(32).optional() }).strict(),
} as const;

export const SessionPageSchema = z.object({ sessions: z.array(SessionSchema), nextCursor: z.string().nullable() });
export type SessionPage = z.infer<typeof SessionPageSchema>;

export const WhoAmISchema = z.object({ deviceId: Id, name: z.string(), kind: DeviceSchema.shape.kind, role: DeviceRole });
export type WhoAmI = z.infer<typeof WhoAmISchema>;

export const ChatSendResult = z.object({ message: MessageSchema, duplicate: z.boolean() });
export type ChatSendResult = z.infer<typeof ChatSendResult>;

export const UsageSummarySchema = z.object({
  calls: z.number().int(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  cacheReadTokens: z.number().int(),
  cacheWriteTokens: z.number().int(),
  /** Sum over priced calls. */
  costMicros: z.number().int(),
  /** Calls whose model was not in the price table. */
  unpricedCalls: z.number().int(),
});
export type UsageSummary = z.infer<typeof UsageSummarySchema>;
