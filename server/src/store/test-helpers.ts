/** Helpers for the store's tests: a store on a fresh temp file and a settable clock. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError, type ErrorCode } from '@autoclaw/shared';
import { openStore } from './sqlite-store';
import type { Store } from './types';

export interface ManualClock {
  now: () => number;
  set(ms: number): void;
  advance(ms: number): void;
}

export function manualClock(start = 1_700_000_000_000): ManualClock {
  let current = start;
  return {
    now: () => current,
    set: (ms) => {
      current = ms;
    },
    advance: (ms) => {
      current += ms;
    },
  };
}

export interface TempStore {
  store: Store;
  clock: ManualClock;
  dir: string;
  path: string;
  /** Opens another store on the same file (another connection). */
  reopen(): Store;
  cleanup(): void;
}

export function tempStore(): TempStore {
  const dir = mkdtempSync(join(tmpdir(), 'autoclaw-store-'));
  const path = join(dir, 'gateway.sqlite');
  const clock = manualClock();
  const opened: Store[] = [];
  const open = (): Store => {
    const store = openStore({ path, now: clock.now });
    opened.push(store);
    return store;
  };
  return {
    store: open(),
    clock,
    dir,
    path,
    reopen: open,
    cleanup() {
      for (const store of opened) store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` and returns the AppError code it threw (fails when it threw anything else or nothing). */
export function codeOf(fn: () => unknown): ErrorCode {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw new Error(`expected an AppError, got ${String(err)}`);
  }
  throw new Error('expected an AppError, but nothing was thrown');
}
