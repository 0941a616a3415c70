import { afterEach, describe, expect, it, vi } from 'vitest';
import { createIdleCollector } from './idle-collector';

describe('idle collector', () => {
  afterEach(() => vi.useRealTimers());

  it('collects once after the quiet period, restarting the wait on new quiet signals', () => {
    vi.useFakeTimers();
    const collect = vi.fn();
    const collector = createIdleCollector({ delayMs: 1_000, collect });
    collector.quiet();
    vi.advanceTimersByTime(600);
    collector.quiet();
    vi.advanceTimersByTime(600);
    expect(collect).not.toHaveBeenCalled();
    vi.advanceTimersByTime(400);
    expect(collect).toHaveBeenCalledTimes(1);
    collector.stop();
  });

  it('stop() cancels a pending collection and leaves no timer', () => {
    vi.useFakeTimers();
    const collect = vi.fn();
    const collector = createIdleCollector({ delayMs: 1_000, collect });
    collector.quiet();
    collector.stop();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(5_000);
    expect(collect).not.toHaveBeenCalled();
  });

  it('really frees memory: a dropped buffer is collected without --expose-gc on the command line', async () => {
    const collector = createIdleCollector({ delayMs: 1 });
    let big: number[] | null = Array.from({ length: 200_000 }, (_, i) => i);
    const ref = new WeakRef(big);
    big = null;
    collector.quiet();
    await new Promise((r) => setTimeout(r, 30));
    expect(ref.deref()).toBeUndefined();
    collector.stop();
  });
});
