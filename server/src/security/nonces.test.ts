import { describe, expect, it } from 'vitest';
import { NONCE_TTL_MS } from '@autoclaw/shared';
import { createNonceStore } from './nonces';

describe('nonce store', () => {
  it('accepts a nonce once, within its TTL', () => {
    let now = 1_000;
    const nonces = createNonceStore({ now: () => now });
    const { nonce, expiresAt } = nonces.issue();
    expect(expiresAt).toBe(1_000 + NONCE_TTL_MS);
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(nonces.consume(nonce)).toBe(true);
    expect(nonces.consume(nonce)).toBe(false);

    const late = nonces.issue().nonce;
    now += NONCE_TTL_MS;
    expect(nonces.consume(late)).toBe(false);
    expect(nonces.consume('never-issued')).toBe(false);
  });

  it('sweeps expired nonces and bounds how many are outstanding', () => {
    let now = 0;
    const nonces = createNonceStore({ now: () => now, ttlMs: 100, maxOutstanding: 3 });
    const first = nonces.issue().nonce;
    nonces.issue();
    nonces.issue();
    nonces.issue();
    expect(nonces.size).toBe(3);
    expect(nonces.consume(first)).toBe(false);
    now = 200;
    nonces.issue();
    expect(nonces.size).toBe(1);
  });
});
