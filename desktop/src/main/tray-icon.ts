/**
 * The tray icon, drawn in code: the AutoClaw mark (three claw strokes on a
 * rounded square) and, when answers are unread, a red dot in the corner.
 * Returns PNG bytes for nativeImage.createFromBuffer.
 */
import { encodePng } from './png';

type Rgb = readonly [number, number, number];
const MARK: Rgb = [0x5b, 0x4b, 0xdb];
const STROKE: Rgb = [0xff, 0xff, 0xff];
const BADGE: Rgb = [0xe5, 0x39, 0x35];

/** Coverage (0..1) of a pixel by a shape, from the signed distance to its edge (analytic antialiasing). */
function coverage(distance: number): number {
  return Math.min(1, Math.max(0, 0.5 - distance));
}

function roundedSquare(x: number, y: number, size: number, radius: number): number {
  const half = size / 2;
  const qx = Math.abs(x - half) - (half - radius);
  const qy = Math.abs(y - half) - (half - radius);
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - radius;
}

function capsule(x: number, y: number, ax: number, ay: number, bx: number, by: number, radius: number): number {
  const px = x - ax;
  const py = y - ay;
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.min(1, Math.max(0, (px * dx + py * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - dx * t, py - dy * t) - radius;
}

function blend(out: Uint8Array, offset: number, color: Rgb, alpha: number): void {
  const below = (out[offset + 3] ?? 0) / 255;
  const a = alpha + below * (1 - alpha);
  if (a === 0) return;
  for (let c = 0; c < 3; c += 1) {
    const previous = (out[offset + c] ?? 0) * below * (1 - alpha);
    out[offset + c] = Math.round((color[c]! * alpha + previous) / a);
  }
  out[offset + 3] = Math.round(a * 255);
}

/** RGBA pixels of the mark at size×size; `badge` adds the unread dot. */
export function drawTrayIcon(size: number, badge: boolean): Uint8Array {
  const out = new Uint8Array(size * size * 4);
  const s = size / 32; // designed on a 32-pixel grid
  const strokes: Array<[number, number, number, number]> = [
    [8, 24, 13, 11],
    [13, 25, 18, 11],
    [18, 25, 22, 14],
  ];
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      const px = x + 0.5;
      const py = y + 0.5;
      const offset = (y * size + x) * 4;
      blend(out, offset, MARK, coverage(roundedSquare(px, py, size, 7 * s)));
      for (const [ax, ay, bx, by] of strokes) {
        blend(out, offset, STROKE, coverage(capsule(px, py, ax * s, ay * s, bx * s, by * s, 1.6 * s)));
      }
      if (badge) blend(out, offset, BADGE, coverage(Math.hypot(px - 25.5 * s, py - 6.5 * s) - 5.5 * s));
    }
  }
  return out;
}

/** PNG bytes of the tray icon (32 px: shown at 16 pt with scale factor 2). */
export function trayIconPng(badge: boolean, size = 32): Buffer {
  return encodePng(size, size, drawTrayIcon(size, badge));
}
