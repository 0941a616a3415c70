import { TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import { classify } from './gateway-http';
import { CONNECTION_LOST, describeError, isTransportError } from './client-error';

describe('describeError', () => {
  it('reads the app code the gateway puts in data.appCode', () => {
    const error = { message: 'No Anthropic key', data: { code: 'PRECONDITION_FAILED', appCode: 'NOT_CONFIGURED' } };
    expect(describeError(error)).toEqual({ code: 'NOT_CONFIGURED', message: 'No Anthropic key' });
    expect(isTransportError(error)).toBe(false);
  });

  it('maps plain tRPC codes (input validation) to ours', () => {
    expect(describeError({ message: 'bad', data: { code: 'BAD_REQUEST' } }).code).toBe('BAD_REQUEST');
  });

  it('treats an error without data as a lost connection', () => {
    const error = new Error('WebSocket closed');
    expect(describeError(error)).toEqual({ code: null, message: 'WebSocket closed' });
    expect(isTransportError(error)).toBe(true);
    expect(isTransportError({ data: { appCode: 'NOT_A_CODE' } })).toBe(true);
  });

  it('says the connection was lost where tRPC wraps a close event as "Unknown error"', () => {
    // What tRPC's WebSocket client rejects a pending call with when its socket closes.
    const cut = TRPCClientError.from({ type: 'close', code: 1006, reason: '', wasClean: false });
    expect(cut.message).toBe('Unknown error');
    expect(describeError(cut)).toEqual({ code: null, message: CONNECTION_LOST });
    expect(isTransportError(cut)).toBe(true);
  });
});

describe('pairing failures', () => {
  it('explains wrong codes, rate limits and origins differently', () => {
    expect(classify(401, 'UNAUTHORIZED', 'pairing code is wrong, already used or expired').kind).toBe('bad_code');
    expect(classify(429, 'RATE_LIMITED', 'slow down').kind).toBe('rate_limited');
    expect(classify(429, 'RATE_LIMITED', 'slow down', 4_200).message).toMatch(/Wait 5 s/);
    expect(classify(403, 'FORBIDDEN', 'this origin may not use the gateway').kind).toBe('forbidden');
    expect(classify(401, 'UNAUTHORIZED', 'timestamp is too far from the gateway clock').message).toMatch(/clock/);
    expect(classify(500, 'INTERNAL', 'boom')).toEqual({ kind: 'other', message: 'Pairing failed: boom' });
  });
});
