import { describe, expect, it } from 'vitest';
import { DEFAULT_SIZE, restoreBounds } from './window-bounds';

const laptop = { x: 0, y: 0, width: 1440, height: 875 };
const external = { x: 1440, y: 0, width: 2560, height: 1415 };

describe('restoreBounds', () => {
  it('uses the default size the first time', () => {
    expect(restoreBounds(null, [laptop])).toEqual({ ...DEFAULT_SIZE, maximized: false });
  });

  it('restores bounds that are on a display', () => {
    const saved = { x: 1600, y: 100, width: 1200, height: 800, maximized: true };
    expect(restoreBounds(saved, [laptop, external])).toEqual(saved);
  });

  it('drops the position when its display is gone, keeping a size that fits', () => {
    const saved = { x: 1600, y: 100, width: 2400, height: 1300, maximized: false };
    expect(restoreBounds(saved, [laptop])).toEqual({ width: 1440, height: 875, maximized: false });
  });

  it('drops a position whose title bar is off screen', () => {
    expect(restoreBounds({ x: 100, y: -500, width: 800, height: 600, maximized: false }, [laptop])).toEqual({
      width: 800,
      height: 600,
      maximized: false,
    });
    expect(restoreBounds({ x: 1400, y: 100, width: 800, height: 600, maximized: false }, [laptop])).toEqual({
      width: 800,
      height: 600,
      maximized: false,
    });
  });

  it('never goes below the minimum size', () => {
    expect(restoreBounds({ x: 10, y: 10, width: 50, height: 20, maximized: false }, [laptop])).toEqual({
      x: 10,
      y: 10,
      width: 420,
      height: 400,
      maximized: false,
    });
  });
});
