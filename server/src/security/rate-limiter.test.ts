import { describe, expect, it } from 'vitest';
import { createRateLimiter } from './rate-limiter';

describe('rate limiter', () => {
  it('blocks an address after `limit` failures until the oldest leaves the window', () => {
    let now = 0;
    const limiter = createRateLimiter({ now: () => now, limit: 3, windowMs: 1_000 });
    for (let i = 0; i < 3; i++) {
      expect(limiter.blockedFor('a')).toBe(0);
      limiter.fail('a');
      now += 100;
    }
    expect(limiter.blockedFor('a')).toBe(700);
    expect(limiter.blockedFor('b')).toBe(0);
    now = 1_000;
    expect(limiter.blockedFor('a')).toBe(0);
    limiter.fail('a');
    expect(limiter.blockedFor('a')).toBeGreaterThan(0);
  });

  it('forgets the oldest addresses when tracking too many', () => {
    const limiter = createRateLimiter({ now: () => 0, limit: 1, windowMs: 1_000, maxKeys: 2 });
    limiter.fail('a');
    limiter.fail('b');
    limiter.fail('c');
    expect(limiter.blockedFor('a')).toBe(0);
    expect(limiter.blockedFor('c')).toBeGreaterThan(0);
  });
});
