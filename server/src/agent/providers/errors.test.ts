import { describe, expect, it } from 'vitest';
import { AppError } from '@autoclaw/shared';
import { parseRetryAfter, toProviderError, type ProviderErrorContext } from './errors';

const NOW = Date.UTC(2030, 5, 1, 8, 0, 0);
const ctx = (over: Partial<ProviderErrorContext> = {}): ProviderErrorContext => ({
  label: 'OpenAI',
  model: 'gpt-x',
  signal: new AbortController().signal,
  now: () => NOW,
  secrets: ['sk-secret-value-123'],
  ...over,
});

describe('parseRetryAfter', () => {
  it('reads retry-after-ms, seconds and HTTP dates', () => {
    expect(parseRetryAfter(new Headers({ 'retry-after-ms': '1500.4' }), () => NOW)).toBe(1500);
    expect(parseRetryAfter(new Headers({ 'retry-after': '2.5' }), () => NOW)).toBe(2500);
    expect(parseRetryAfter(new Headers({ 'retry-after': new Date(NOW + 9000).toUTCString() }), () => NOW)).toBe(9000);
    expect(parseRetryAfter(new Headers({ 'retry-after': new Date(NOW - 9000).toUTCString() }), () => NOW)).toBe(0);
    expect(parseRetryAfter(new Headers({ 'retry-after': 'soon' }), () => NOW)).toBeUndefined();
    expect(parseRetryAfter(undefined, () => NOW)).toBeUndefined();
  });

  it('prefers retry-after-ms over retry-after', () => {
    expect(parseRetryAfter(new Headers({ 'retry-after-ms': '250', 'retry-after': '3' }), () => NOW)).toBe(250);
  });
});

describe('toProviderError', () => {
  it('redacts the key from provider messages', () => {
    const error = toProviderError({ status: 400, error: { message: 'bad key sk-secret-value-123 in body' } }, ctx());
    expect(error.code).toBe('PROVIDER_BAD_REQUEST');
    expect(error.message).not.toContain('sk-secret-value-123');
    expect(error.message).toContain('[redacted]');
  });

  it('maps an aborted signal to CANCELLED whatever was thrown', () => {
    const controller = new AbortController();
    controller.abort();
    expect(toProviderError(new Error('terminated'), ctx({ signal: controller.signal })).code).toBe('CANCELLED');
  });

  it('maps statuses and stream error types to codes', () => {
    expect(toProviderError({ status: 403 }, ctx()).code).toBe('PROVIDER_AUTH');
    expect(toProviderError({ status: 408 }, ctx()).code).toBe('PROVIDER_UNAVAILABLE');
    expect(toProviderError({ status: 422 }, ctx()).code).toBe('PROVIDER_BAD_REQUEST');
    expect(toProviderError({ error: { type: 'error', error: { type: 'rate_limit_error', message: 'slow' } } }, ctx()).code).toBe(
      'PROVIDER_RATE_LIMITED',
    );
    expect(toProviderError(new TypeError('terminated'), ctx()).code).toBe('PROVIDER_UNAVAILABLE');
  });

  it('passes AppErrors through untouched', () => {
    const original = new AppError('CANCELLED', 'x');
    expect(toProviderError(original, ctx())).toBe(original);
  });
});
