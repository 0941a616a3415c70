import { describe, expect, it } from 'vitest';
import { encodePng } from './png';
import { decodePng } from './testing/png-decoder';

describe('encodePng', () => {
  it('round-trips pixels', () => {
    const rgba = new Uint8Array(3 * 2 * 4).map((_, i) => (i * 37) % 256);
    const decoded = decodePng(encodePng(3, 2, rgba));
    expect(decoded.width).toBe(3);
    expect(decoded.height).toBe(2);
    expect(decoded.rgba).toEqual(rgba);
  });

  it('refuses pixel data of the wrong size', () => {
    expect(() => encodePng(2, 2, new Uint8Array(15))).toThrow(RangeError);
    expect(() => encodePng(0, 2, new Uint8Array(0))).toThrow(RangeError);
  });
});
