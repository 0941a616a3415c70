import { describe, expect, it } from 'vitest';
import { createFailureThrottle } from './failure-throttle';

describe('failure throttle', () => {
  it('lets the first failures through, then delays that double up to the cap', () => {
    let now = 0;
    const t = createFailureThrottle({ now: () => now, freeFailures: 2, baseDelayMs: 1_000, maxDelayMs: 5_000 });
    expect(t.fail('a')).toBe(0);
    expect(t.fail('a')).toBe(0);
    expect(t.waitFor('a')).toBe(0);
    expect(t.fail('a')).toBe(1_000);
    expect(t.waitFor('a')).toBe(1_000);
    now += 400;
    expect(t.waitFor('a')).toBe(600);
    expect(t.waitFor('b')).toBe(0);
    now += 600;
    expect(t.waitFor('a')).toBe(0);
    expect(t.fail('a')).toBe(2_000);
    now += 2_000;
    expect(t.fail('a')).toBe(4_000);
    now += 4_000;
    expect(t.fail('a')).toBe(5_000);
    expect(t.failures('a')).toBe(6);
  });

  it('forgets a key that stayed quiet long enough', () => {
    let now = 0;
    const t = createFailureThrottle({ now: () => now, freeFailures: 1, forgetAfterMs: 10_000 });
    t.fail('a');
    expect(t.fail('a')).toBeGreaterThan(0);
    now += 10_000;
    expect(t.failures('a')).toBe(0);
    expect(t.fail('a')).toBe(0);
  });

  it('never overflows and forgets the least recently failed keys past maxKeys', () => {
    const t = createFailureThrottle({ now: () => 0, freeFailures: 0, maxKeys: 2, maxDelayMs: 30_000 });
    for (let i = 0; i < 2_000; i++) t.fail('a');
    expect(t.waitFor('a')).toBe(30_000);
    t.fail('b');
    t.fail('c');
    expect(t.failures('a')).toBe(0);
    expect(t.failures('b')).toBe(1);
    expect(t.failures('c')).toBe(1);
  });
});
