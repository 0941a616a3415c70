/** Row shapes as SQLite returns them, and their mapping to the shared types. */
import { isErrorCode, type ErrorInfo, type Message, type MessageStatus, type ToolCall, type ToolCallStatus, type Usage } from '@autoclaw/shared';
import type { DeviceRecord } from './types';

export interface SessionRow {
  id: string;
  name: string;
  title: string;
  channel: string;
  created_at: number;
  updated_at: number;
  preview: string | null;
  busy: number;
}

export interface MessageRow {
  seq: number;
  id: string;
  session_id: string;
  role: 'user' | 'assistant';
  text: string;
  client_id: string | null;
  turn_id: string | null;
  status: MessageStatus;
  error_code: string | null;
  error_message: string | null;
  model: string | null;
  created_at: number;
  updated_at: number;
}

/**
 * Message reads use better-sqlite3's raw (array) mode: building the row
 * object in JS is about twice as fast as letting the driver do it, which
 * matters for sessions of many hundred messages.
 */
export const MESSAGE_COLUMNS =
  'seq, id, session_id, role, text, client_id, turn_id, status, error_code, error_message, model, created_at, updated_at';
export type MessageTuple = [
  number,
  string,
  string,
  'user' | 'assistant',
  string,
  string | null,
  string | null,
  MessageStatus,
  string | null,
  string | null,
  string | null,
  number,
  number,
];

export function messageRowOf(t: MessageTuple): MessageRow {
  return {
    seq: t[0],
    id: t[1],
    session_id: t[2],
    role: t[3],
    text: t[4],
    client_id: t[5],
    turn_id: t[6],
    status: t[7],
    error_code: t[8],
    error_message: t[9],
    model: t[10],
    created_at: t[11],
    updated_at: t[12],
  };
}

export const TOOL_CALL_COLUMNS = 'seq, id, message_id, name, input, status, result, risky, created_at, updated_at';
export type ToolCallTuple = [number, string, string, string, string, ToolCallStatus, string | null, number, number, number];

export function toolCallRowOf(t: ToolCallTuple): ToolCallRow {
  return {
    seq: t[0],
    id: t[1],
    message_id: t[2],
    name: t[3],
    input: t[4],
    status: t[5],
    result: t[6],
    risky: t[7],
    created_at: t[8],
    updated_at: t[9],
  };
}

export interface ToolCallRow {
  seq: number;
  id: string;
  message_id: string;
  name: string;
  input: string;
  status: ToolCallStatus;
  result: string | null;
  risky: number;
  created_at: number;
  updated_at: number;
}

/** The sum of one message's usage rows. */
export interface UsageAggregateRow {
  message_id: string;
  /** Provider and model of the message's newest usage row. */
  provider: string;
  model: string;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_micros: number | null;
  unpriced: number;
}

export interface DeviceRow {
  id: string;
  name: string;
  kind: DeviceRecord['kind'];
  role: DeviceRecord['role'];
  public_key: string;
  created_at: number;
  last_seen_at: number | null;
  revoked_at: number | null;
}

const PREVIEW_CHARS = 120;

/** Collapses whitespace and cuts to 120 characters for the sessions list. */
export function previewOf(text: string | null): string {
  if (!text) return '';
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= PREVIEW_CHARS) return flat;
  // Do not split a surrogate pair at the cut.
  let cut = flat.slice(0, PREVIEW_CHARS - 1);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return `${cut}…`;
}

export function errorOf(row: Pick<MessageRow, 'error_code' | 'error_message'>): ErrorInfo | null {
  if (row.error_code === null) return null;
  return { code: isErrorCode(row.error_code) ? row.error_code : 'INTERNAL', message: row.error_message ?? '' };
}

export function toToolCall(row: ToolCallRow): ToolCall {
  return {
    id: row.id,
    messageId: row.message_id,
    name: row.name,
    input: row.input,
    status: row.status,
    result: row.result,
    risky: row.risky === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toUsage(row: UsageAggregateRow): Usage {
  return {
    provider: row.provider,
    model: row.model,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    cacheReadTokens: row.cache_read_tokens,
    cacheWriteTokens: row.cache_write_tokens,
    // One unpriced call makes the message's cost unknown, never a silent 0.
    costMicros: row.unpriced > 0 ? null : row.cost_micros,
  };
}

export function toMessage(row: MessageRow, toolCalls: ToolCall[], usage: Usage | null): Message {
  return {
    id: row.id,
    sessionId: row.session_id,
    seq: row.seq,
    turnId: row.turn_id,
    role: row.role,
    text: row.text,
    clientId: row.client_id,
    status: row.status,
    error: errorOf(row),
    model: row.model,
    toolCalls,
    usage,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toDevice(row: DeviceRow): DeviceRecord {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    role: row.role,
    publicKey: row.public_key,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    revokedAt: row.revoked_at,
  };
}
