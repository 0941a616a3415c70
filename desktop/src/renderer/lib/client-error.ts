import { isErrorCode, type ErrorCode } from '@autoclaw/shared';

/** What the UI needs to know about a failed call. */
export interface ClientErrorInfo {
  /** The gateway's app code, or null when the call never got an answer (socket lost). */
  code: ErrorCode | null;
  message: string;
}

function readProp(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && key in value ? (value as Record<string, unknown>)[key] : undefined;
}

/** tRPC codes of input validation and routing errors, mapped to ours. */
const TRPC_CODES: Record<string, ErrorCode> = {
  BAD_REQUEST: 'BAD_REQUEST',
  PARSE_ERROR: 'BAD_REQUEST',
  NOT_FOUND: 'NOT_FOUND',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  TOO_MANY_REQUESTS: 'RATE_LIMITED',
  CONFLICT: 'CONFLICT',
  TIMEOUT: 'TIMEOUT',
  INTERNAL_SERVER_ERROR: 'INTERNAL',
};

/**
 * Reads a TRPCClientError (or anything thrown) without trusting its shape:
 * the gateway puts our code in `data.appCode`; a call cut by a lost socket has
 * no `data` at all.
 */
export function describeError(error: unknown): ClientErrorInfo {
  const data = readProp(error, 'data');
  const appCode = readProp(data, 'appCode');
  const message = readProp(error, 'message');
  const text = typeof message === 'string' && message.length > 0 ? message : 'Something went wrong';
  if (isErrorCode(appCode)) return { code: appCode, message: text };
  const trpcCode = readProp(data, 'code');
  if (typeof trpcCode === 'string' && trpcCode in TRPC_CODES) return { code: TRPC_CODES[trpcCode] ?? 'INTERNAL', message: text };
  // A call the socket's end cut off: tRPC wraps the close event, whose text
  // ("Unknown error") tells the user nothing.
  if (readProp(error, 'name') === 'TRPCClientError' && data === undefined) return { code: null, message: CONNECTION_LOST };
  return { code: null, message: text };
}

export const CONNECTION_LOST = 'The connection was lost before an answer came. Try again once it is back.';

/** The call never reached a verdict: it is safe (and right) to send it again later. */
export function isTransportError(error: unknown): boolean {
  return describeError(error).code === null;
}
