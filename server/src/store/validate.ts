/**
 * Input checks at the store's door. Callers validate with the shared zod
 * schemas too; the store re-checks what would corrupt its own invariants, so
 * bad input is a typed error and never a half-applied write.
 */
import { AppError, LIMITS, MessageStatus, ToolCallStatus } from '@autoclaw/shared';

const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const CLIENT_ID_RE = /^[A-Za-z0-9_-]{8,64}$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what we refuse
const CONTROL_RE = /[\u0000-\u001f]/;

const MESSAGE_STATUSES: ReadonlySet<string> = new Set(MessageStatus.options);
const TOOL_CALL_STATUSES: ReadonlySet<string> = new Set(ToolCallStatus.options);

export function checkId(value: unknown, what: string): string {
  if (typeof value !== 'string' || !ID_RE.test(value)) {
    throw new AppError('BAD_REQUEST', `${what} must be 1–64 characters of A–Z, a–z, 0–9, _ and -`);
  }
  return value;
}

export function checkClientId(value: unknown): string {
  if (typeof value !== 'string' || !CLIENT_ID_RE.test(value)) {
    throw new AppError('BAD_REQUEST', 'client ids are 8–64 characters of A–Z, a–z, 0–9, _ and -');
  }
  return value;
}

/** A session name or title: trimmed, 1–80 characters, no control characters. */
export function checkName(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new AppError('BAD_REQUEST', `${what} must be text`);
  const trimmed = value.trim();
  if (trimmed.length === 0) throw new AppError('BAD_REQUEST', `${what} is empty`);
  if (trimmed.length > LIMITS.sessionNameChars) {
    throw new AppError('BAD_REQUEST', `${what} is longer than ${LIMITS.sessionNameChars} characters`);
  }
  if (CONTROL_RE.test(trimmed)) throw new AppError('BAD_REQUEST', `${what} contains control characters`);
  return trimmed;
}

export function checkText(value: unknown, what: string, maxChars: number, opts: { allowEmpty?: boolean } = {}): string {
  if (typeof value !== 'string') throw new AppError('BAD_REQUEST', `${what} must be text`);
  if (!opts.allowEmpty && value.length === 0) throw new AppError('BAD_REQUEST', `${what} is empty`);
  if (value.length > maxChars) {
    throw new AppError('PAYLOAD_TOO_LARGE', `${what} is longer than ${maxChars} characters`);
  }
  return value;
}

export function checkMessageStatus(value: unknown): MessageStatus {
  if (typeof value !== 'string' || !MESSAGE_STATUSES.has(value)) {
    throw new AppError('BAD_REQUEST', `unknown message status ${JSON.stringify(value)}`);
  }
  return value as MessageStatus;
}

export function checkToolCallStatus(value: unknown): ToolCallStatus {
  if (typeof value !== 'string' || !TOOL_CALL_STATUSES.has(value)) {
    throw new AppError('BAD_REQUEST', `unknown tool call status ${JSON.stringify(value)}`);
  }
  return value as ToolCallStatus;
}

export function checkCount(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new AppError('BAD_REQUEST', `${what} must be a non-negative integer`);
  }
  return value;
}

export function checkLimit(value: unknown, what = 'limit'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new AppError('BAD_REQUEST', `${what} must be a positive integer`);
  }
  return value;
}

export function checkTime(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new AppError('BAD_REQUEST', `${what} must be a time in milliseconds`);
  }
  return Math.trunc(value);
}

/** Upper bound for free text the store keeps (assistant answers, tool results, summaries). */
export const MAX_STORED_TEXT = 4 * 1024 * 1024;
