/**
 * How AppError codes travel: to tRPC codes (WebSocket procedures) and to HTTP
 * statuses (the /auth endpoints). The single place where an error meets the
 * wire is the tRPC error formatter (trpc.ts) and the fastify error handler
 * (app.ts); both use these tables.
 */
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import type { ErrorCode } from '@autoclaw/shared';

export const TRPC_CODE_OF: Record<ErrorCode, TRPC_ERROR_CODE_KEY> = {
  BAD_REQUEST: 'BAD_REQUEST',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'TOO_MANY_REQUESTS',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  NOT_CONFIGURED: 'PRECONDITION_FAILED',
  PROVIDER_AUTH: 'BAD_GATEWAY',
  PROVIDER_MODEL_NOT_FOUND: 'BAD_GATEWAY',
  PROVIDER_RATE_LIMITED: 'TOO_MANY_REQUESTS',
  PROVIDER_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  PROVIDER_BAD_REQUEST: 'BAD_GATEWAY',
  CANCELLED: 'CLIENT_CLOSED_REQUEST',
  TIMEOUT: 'TIMEOUT',
  BUDGET_EXCEEDED: 'PRECONDITION_FAILED',
  INTERNAL: 'INTERNAL_SERVER_ERROR',
};

/** The app code of an error tRPC raised itself (bad frame, unknown procedure, …). */
export const APP_CODE_OF_TRPC: Partial<Record<TRPC_ERROR_CODE_KEY, ErrorCode>> = {
  PARSE_ERROR: 'BAD_REQUEST',
  BAD_REQUEST: 'BAD_REQUEST',
  UNPROCESSABLE_CONTENT: 'BAD_REQUEST',
  METHOD_NOT_SUPPORTED: 'BAD_REQUEST',
  UNSUPPORTED_MEDIA_TYPE: 'BAD_REQUEST',
  NOT_FOUND: 'NOT_FOUND',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  CONFLICT: 'CONFLICT',
  TOO_MANY_REQUESTS: 'RATE_LIMITED',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  TIMEOUT: 'TIMEOUT',
  CLIENT_CLOSED_REQUEST: 'CANCELLED',
};

export const HTTP_STATUS_OF: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
  NOT_CONFIGURED: 412,
  PROVIDER_AUTH: 502,
  PROVIDER_MODEL_NOT_FOUND: 502,
  PROVIDER_RATE_LIMITED: 429,
  PROVIDER_UNAVAILABLE: 503,
  PROVIDER_BAD_REQUEST: 502,
  CANCELLED: 499,
  TIMEOUT: 504,
  BUDGET_EXCEEDED: 402,
  INTERNAL: 500,
};

/** The app code for an HTTP status fastify chose itself (bad JSON, body too large, …). */
export function appCodeOfStatus(status: number): ErrorCode {
  switch (status) {
    case 401:
      return 'UNAUTHORIZED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 409:
      return 'CONFLICT';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 429:
      return 'RATE_LIMITED';
    default:
      return status >= 500 ? 'INTERNAL' : 'BAD_REQUEST';
  }
}

export const INTERNAL_MESSAGE = 'Internal error';
