import { describe, expect, it } from 'vitest';
import { decodePng } from './testing/png-decoder';
import { drawTrayIcon, trayIconPng } from './tray-icon';

function pixel(rgba: Uint8Array, size: number, x: number, y: number): number[] {
  const offset = (y * size + x) * 4;
  return [...rgba.subarray(offset, offset + 4)];
}

describe('tray icon', () => {
  it('draws the mark, with a red dot only when answers are unread', () => {
    const idle = drawTrayIcon(32, false);
    const unread = drawTrayIcon(32, true);
    // Corner outside the rounded square is transparent; the centre is opaque.
    expect(pixel(idle, 32, 0, 0)[3]).toBe(0);
    expect(pixel(idle, 32, 16, 16)[3]).toBe(255);
    // The badge centre (25, 6) is red only in the unread icon.
    const [r, g, b] = pixel(unread, 32, 25, 6);
    expect(r).toBeGreaterThan(200);
    expect(g).toBeLessThan(80);
    expect(b).toBeLessThan(80);
    expect(pixel(idle, 32, 25, 6)).not.toEqual(pixel(unread, 32, 25, 6));
  });

  it('encodes as a valid PNG of the requested size', () => {
    const decoded = decodePng(trayIconPng(true, 64));
    expect(decoded.width).toBe(64);
    expect(decoded.height).toBe(64);
    expect(decoded.rgba).toEqual(drawTrayIcon(64, true));
  });
});
