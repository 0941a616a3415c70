/**
 * The gateway's readiness signal to the local driver: its runtime file. The
 * gateway is ready before it writes the file (gateway/server.ts), so the file
 * naming the process we started is the signal — seen through a directory
 * watch (inotify) the moment it is renamed into place, with polls as a
 * fallback (a watch can miss events on some file systems) starting at 10 ms
 * and backing off, so no wake waits out a long fixed probe interval.
 */
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { readRuntimeFile, RUNTIME_FILE } from '../../../gateway';
import type { RuntimeInfo } from '../../../gateway';

export interface RuntimeWaitOptions {
  /** Stop waiting (and return null) when this says so, e.g. the process exited; asked after every signal and poll. */
  gaveUp: () => boolean;
  /** Polls: the delay before poll `n` (default 10 ms doubling up to 200 ms). */
  pollMs?: (n: number) => number;
  /** Wakes the wait up early (the process exited). */
  onNudge?: (nudge: () => void) => void;
}

export const defaultPollMs = (n: number): number => Math.min(200, 10 * 2 ** n);

/** Resolves with the runtime file once it names `pid`, or null once `gaveUp()` is true. */
export async function waitForRuntimeFile(dir: string, pid: number, opts: RuntimeWaitOptions): Promise<RuntimeInfo | null> {
  const pollMs = opts.pollMs ?? defaultPollMs;
  let wake: (() => void) | null = null;
  const nudge = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(dir, { persistent: false }, (_event, name) => {
      if (name === null || name === RUNTIME_FILE) nudge();
    });
    watcher.on('error', () => undefined); // the poll goes on
  } catch {
    watcher = null; // no watch here: polls alone
  }
  opts.onNudge?.(nudge);
  try {
    for (let n = 0; ; n++) {
      const runtime = readRuntimeFile(dir);
      if (runtime && runtime.pid === pid) return runtime;
      if (opts.gaveUp()) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          wake = null;
          resolve();
        }, pollMs(n));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    watcher?.close();
  }
}
