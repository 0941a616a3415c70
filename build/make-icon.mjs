#!/usr/bin/env node
// Draws the AutoClaw app icon (build/icon.png, 1024×1024 RGBA) in code: three
// claw strokes on a rounded, gradient square — the tray mark, larger.
// electron-builder converts it to .icns (macOS), .ico (Windows) and the Linux
// icon set. Re-run after changing the design:  node build/make-icon.mjs
// The PNG encoder is the same few lines as desktop/src/main/png.ts (this
// script runs on plain Node, which cannot import TypeScript).
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';

const SIZE = 1024;

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

export function encodePng(width, height, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8);
  const rows = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y += 1) {
    rows.set(rgba.subarray(y * width * 4, (y + 1) * width * 4), y * (width * 4 + 1) + 1);
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(rows, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

const coverage = (distance) => Math.min(1, Math.max(0, 0.5 - distance));

function roundedSquare(x, y, left, size, radius) {
  const half = size / 2;
  const qx = Math.abs(x - left - half) - (half - radius);
  const qy = Math.abs(y - left - half) - (half - radius);
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - radius;
}

function capsule(x, y, ax, ay, bx, by, radius) {
  const px = x - ax;
  const py = y - ay;
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.min(1, Math.max(0, (px * dx + py * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - dx * t, py - dy * t) - radius;
}

function blend(out, offset, color, alpha) {
  const below = out[offset + 3] / 255;
  const a = alpha + below * (1 - alpha);
  if (a === 0) return;
  for (let c = 0; c < 3; c += 1) {
    out[offset + c] = Math.round((color[c] * alpha + out[offset + c] * below * (1 - alpha)) / a);
  }
  out[offset + 3] = Math.round(a * 255);
}

export function drawIcon(size = SIZE) {
  const out = new Uint8Array(size * size * 4);
  const s = size / 32; // the tray icon's 32-unit grid
  // macOS icons leave a margin around the square (824 of 1024).
  const margin = size * 0.0977;
  const square = size - 2 * margin;
  const top = [0x7a, 0x6b, 0xff];
  const bottom = [0x44, 0x35, 0xc4];
  const strokes = [
    [8, 24, 13, 11],
    [13, 25, 18, 11],
    [18, 25, 22, 14],
  ];
  // Strokes are laid out on the grid inside the square.
  const k = square / size;
  for (let y = 0; y < size; y += 1) {
    const t = y / (size - 1);
    const shade = top.map((c, i) => Math.round(c + (bottom[i] - c) * t));
    for (let x = 0; x < size; x += 1) {
      const px = x + 0.5;
      const py = y + 0.5;
      const offset = (y * size + x) * 4;
      blend(out, offset, shade, coverage(roundedSquare(px, py, margin, square, square * 0.225)));
      for (const [ax, ay, bx, by] of strokes) {
        const map = (v) => margin + v * s * k;
        blend(out, offset, [255, 255, 255], coverage(capsule(px, py, map(ax), map(ay), map(bx), map(by), 1.6 * s * k)));
      }
    }
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = join(dirname(fileURLToPath(import.meta.url)), 'icon.png');
  writeFileSync(path, encodePng(SIZE, SIZE, drawIcon(SIZE)));
  console.log(`make-icon: wrote ${path}`);
}
