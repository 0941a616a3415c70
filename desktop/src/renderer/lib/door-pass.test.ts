import { describe, expect, it } from 'vitest';
import type { DoorPass } from '@autoclaw/shared';
import { createDoorPasses } from './door-pass';

describe('createDoorPasses', () => {
  it('reuses a pass until 30 s before it runs out, shares one call between concurrent askers, and asks again after a failure', async () => {
    let at = 1_000_000;
    let minted = 0;
    let failNext = false;
    const mint = async (): Promise<DoorPass> => {
      minted += 1;
      if (failNext) {
        failNext = false;
        throw new Error('manager offline');
      }
      return { pass: `pass-${minted}`, expiresAt: at + 120_000 };
    };
    const passes = createDoorPasses(mint, () => at);
    expect(await Promise.all([passes(), passes()])).toEqual(['pass-1', 'pass-1']);
    at += 89_000;
    expect(await passes()).toBe('pass-1');
    at += 2_000;
    failNext = true;
    await expect(passes()).rejects.toThrow('manager offline');
    expect(await passes()).toBe('pass-3');
    expect(minted).toBe(3);
  });
});
