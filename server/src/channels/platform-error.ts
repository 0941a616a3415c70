/** Platform failures as AppErrors, so delivery and the supervisor branch on codes (see ChannelAdapter). */
import { AppError, type ErrorCode } from '@autoclaw/shared';

const CODE_OF_STATUS: Record<number, ErrorCode> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  422: 'BAD_REQUEST',
  429: 'RATE_LIMITED',
};

/**
 * `status` null: the network failed (retried). A 429 carries the platform's
 * wait in `details.retryAfterMs` (delivery waits exactly that long).
 */
export function platformError(label: string, status: number | null, message: string, opts: { retryAfterMs?: number; cause?: unknown } = {}): AppError {
  const code: ErrorCode = status === null ? 'PROVIDER_UNAVAILABLE' : (CODE_OF_STATUS[status] ?? (status >= 500 ? 'PROVIDER_UNAVAILABLE' : 'BAD_REQUEST'));
  const details = code === 'RATE_LIMITED' ? { retryAfterMs: opts.retryAfterMs ?? 1_000 } : undefined;
  const text = `${label}: ${message}`.slice(0, 400);
  return new AppError(code, text, { ...(details ? { details } : {}), ...(opts.cause === undefined ? {} : { cause: opts.cause }) });
}
