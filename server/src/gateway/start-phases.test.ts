import { describe, expect, it } from 'vitest';
import { startPhases } from './start-phases';

describe('a gateway start in phases', () => {
  it('times each step from where the previous ended, and the total (injected clock)', () => {
    const ticks = [1000, 1001.25, 1031.25, 1031.75];
    const phases = startPhases(() => ticks.shift() ?? 0);
    phases.mark('key');
    phases.mark('store');
    phases.mark('listen');
    expect(phases.done()).toEqual({ key: 1.3, store: 30, listen: 0.5, total: 31.8 });
  });
});
