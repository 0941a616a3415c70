/**
 * Turns whatever an SDK throws (HTTP errors, mid-stream error events,
 * connection failures, aborts) into one AppError with a PROVIDER_* code or
 * CANCELLED. Both SDKs (Stainless-generated) share the error shape read here:
 * `status`, `headers`, `error` (the body), `requestID`.
 */
import { AppError } from '@autoclaw/shared';

export interface ProviderErrorContext {
  /** Who answered, for messages: "Anthropic", "OpenAI", "The OpenAI-compatible server". */
  label: string;
  model: string;
  signal: AbortSignal;
  now: () => number;
  /** Strings that must never appear in a message (the API key). */
  secrets: readonly string[];
}

interface SdkErrorShape {
  name?: unknown;
  message?: unknown;
  status?: unknown;
  headers?: unknown;
  error?: unknown;
  requestID?: unknown;
  code?: unknown;
}

export function cancelledError(): AppError {
  return new AppError('CANCELLED', 'The request was cancelled');
}

/** Milliseconds to wait from `retry-after-ms` or `retry-after` (seconds or an HTTP date), if present. */
export function parseRetryAfter(headers: unknown, now: () => number): number | undefined {
  const get = (name: string): string | null => {
    if (headers instanceof Headers) return headers.get(name);
    if (typeof headers === 'object' && headers !== null) {
      const value = (headers as Record<string, unknown>)[name];
      return typeof value === 'string' ? value : null;
    }
    return null;
  };
  const ms = get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return Math.round(value);
  }
  const after = get('retry-after');
  if (after === null || after.trim() === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(after)) return Math.round(Number(after) * 1000);
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now());
}

/** The provider's own error type and message from the body, whichever API shaped it. */
function bodyFacts(body: unknown): { type: string | null; code: string | null; message: string | null } {
  if (typeof body !== 'object' || body === null) return { type: null, code: null, message: null };
  // Anthropic: { type: 'error', error: { type, message } }; OpenAI: the inner { message, type, code }.
  const inner = (body as { error?: unknown }).error;
  const source = (typeof inner === 'object' && inner !== null ? inner : body) as Record<string, unknown>;
  const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
  return { type: str(source.type), code: str(source.code), message: str(source.message) };
}

function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out.length > 300 ? `${out.slice(0, 300)}…` : out;
}

export function toProviderError(error: unknown, ctx: ProviderErrorContext): AppError {
  if (error instanceof AppError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  if (ctx.signal.aborted || e.name === 'APIUserAbortError' || e.name === 'AbortError') return cancelledError();

  const status = typeof e.status === 'number' ? e.status : undefined;
  const facts = bodyFacts(e.error);
  const retryAfterMs = parseRetryAfter(e.headers, ctx.now);
  const details: Record<string, unknown> = {};
  if (status !== undefined) details.status = status;
  if (facts.type !== null) details.providerType = facts.type;
  if (typeof e.requestID === 'string') details.requestId = e.requestID;
  if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
  const said = facts.message === null ? '' : `: ${redact(facts.message, ctx.secrets)}`;
  const make = (code: ConstructorParameters<typeof AppError>[0], message: string, withCause = true): AppError =>
    new AppError(code, message, withCause ? { cause: error, details } : { details });

  if (status === 401 || status === 403) {
    // No cause: some providers echo part of the key in their 401 message.
    return make('PROVIDER_AUTH', `${ctx.label} rejected the API key — check it in Settings`, false);
  }
  if (status === 404) {
    return make('PROVIDER_MODEL_NOT_FOUND', `${ctx.label} does not know the model "${ctx.model}" — choose another model in Settings`);
  }
  if (status === 429) {
    if (facts.code === 'insufficient_quota' || facts.type === 'insufficient_quota') {
      return make('PROVIDER_BAD_REQUEST', `${ctx.label} says the account has no quota left${said}`);
    }
    const wait = retryAfterMs === undefined ? '' : ` (retry after ${Math.ceil(retryAfterMs / 1000)} s)`;
    return make('PROVIDER_RATE_LIMITED', `${ctx.label} is rate-limiting requests${wait}`);
  }
  if (status !== undefined && (status >= 500 || status === 408 || status === 409)) {
    return make('PROVIDER_UNAVAILABLE', `${ctx.label} is unavailable (HTTP ${status}${facts.type ? ` ${facts.type}` : ''}) — try again shortly`);
  }
  if (status !== undefined) {
    return make('PROVIDER_BAD_REQUEST', `${ctx.label} refused the request (HTTP ${status})${said}`);
  }
  // No status: an error event inside the stream, or the connection failed.
  if (facts.type === 'rate_limit_error') return make('PROVIDER_RATE_LIMITED', `${ctx.label} is rate-limiting requests`);
  if (facts.type !== null || facts.message !== null) {
    return make('PROVIDER_UNAVAILABLE', `${ctx.label} failed mid-answer (${facts.type ?? 'error'}) — try again shortly`);
  }
  const who = ctx.label.replace(/^The /, 'the ');
  if (e.name === 'APIConnectionError' || e.name === 'APIConnectionTimeoutError') {
    return make('PROVIDER_UNAVAILABLE', `Could not reach ${who} — check the network or the server URL`);
  }
  return make('PROVIDER_UNAVAILABLE', `Lost the connection to ${who} — try again shortly`);
}
