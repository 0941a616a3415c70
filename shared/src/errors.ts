/**
 * The closed set of error codes every part of AutoClaw speaks. Callers branch
 * on `code`, never on message text. The server maps an AppError to the wire in
 * exactly one place (the tRPC error formatter); clients read `data.appCode`.
 */
export const ERROR_CODES = [
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'RATE_LIMITED',
  'PAYLOAD_TOO_LARGE',
  'NOT_CONFIGURED',
  'PROVIDER_AUTH',
  'PROVIDER_MODEL_NOT_FOUND',
  'PROVIDER_RATE_LIMITED',
  'PROVIDER_UNAVAILABLE',
  'PROVIDER_BAD_REQUEST',
  'CANCELLED',
  'TIMEOUT',
  /** A hard budget (daily, monthly, per session, tokens, or the plan's) refused a provider call before it was sent. */
  'BUDGET_EXCEEDED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** A plain-data error, safe to persist and to send to clients. */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  /** Extra, non-secret facts for the client (e.g. `retryAfterMs`). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options?.details;
  }

  toInfo(): ErrorInfo {
    return { code: this.code, message: this.message };
  }

  static is(value: unknown, code?: ErrorCode): value is AppError {
    return value instanceof AppError && (code === undefined || value.code === code);
  }
}
