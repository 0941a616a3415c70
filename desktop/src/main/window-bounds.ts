/**
 * Where the window reopens: the saved bounds when enough of them is still on
 * a display (monitors get unplugged), else the saved size centred by the OS.
 */
import type { Rectangle } from 'electron';

export interface SavedBounds extends Rectangle {
  maximized: boolean;
}

export const DEFAULT_SIZE = { width: 1100, height: 760 } as const;
export const MIN_SIZE = { width: 420, height: 400 } as const;
/** How much of the title bar area must be visible on some display. */
const VISIBLE = { width: 120, height: 40 } as const;

function overlap(a: Rectangle, b: Rectangle): Rectangle {
  const x = Math.max(a.x, b.x);
  const y = Math.max(a.y, b.y);
  return {
    x,
    y,
    width: Math.max(0, Math.min(a.x + a.width, b.x + b.width) - x),
    height: Math.max(0, Math.min(a.y + a.height, b.y + b.height) - y),
  };
}

/** Position and size to open with; no x/y means "let the OS place it". */
export function restoreBounds(
  saved: SavedBounds | null,
  workAreas: readonly Rectangle[],
): { width: number; height: number; x?: number; y?: number; maximized: boolean } {
  if (saved === null) return { ...DEFAULT_SIZE, maximized: false };
  const largest = workAreas.reduce<Rectangle | null>(
    (best, area) => (best === null || area.width * area.height > best.width * best.height ? area : best),
    null,
  );
  const width = Math.max(MIN_SIZE.width, Math.min(saved.width, largest?.width ?? saved.width));
  const height = Math.max(MIN_SIZE.height, Math.min(saved.height, largest?.height ?? saved.height));
  const titleBar = { x: saved.x, y: saved.y, width, height: VISIBLE.height };
  const onScreen = workAreas.some((area) => {
    const seen = overlap(titleBar, area);
    return seen.width >= VISIBLE.width && seen.height >= VISIBLE.height && saved.y >= area.y;
  });
  return onScreen
    ? { x: saved.x, y: saved.y, width, height, maximized: saved.maximized }
    : { width, height, maximized: saved.maximized };
}
