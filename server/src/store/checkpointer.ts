/**
 * WAL checkpoints off the event loop.
 *
 * SQLite's automatic checkpoint runs inside whichever commit pushes the WAL
 * past its limit: that commit copies the WAL into the database and fsyncs
 * both files on the calling thread. In a gateway that thread is the event
 * loop, so one chat turn in a few hundred stalled for the fsync (measured:
 * 150–280 ms on this machine's disk, with a 40 MB WAL).
 *
 * Here a timer reads how many WAL frames are not yet in the database (the
 * WAL-index header in the -shm file, a documented format:
 * https://www.sqlite.org/walformat.html §2.1) and, past a threshold, asks a
 * worker thread with its own connection to run a PASSIVE checkpoint, which
 * never blocks writers. The worker starts for a checkpoint and ends soon
 * after the writes stop, so a gateway at rest pays no memory for it. SQLite's own autocheckpoint
 * stays as the backstop should the worker fall behind.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { Worker } from 'node:worker_threads';

export interface CheckpointReport {
  /** Frames in the WAL when the checkpoint ran. */
  log: number;
  /** Frames now in the database file. */
  checkpointed: number;
  /** How long the checkpoint took on the worker, in ms. */
  ms: number;
  /** Every frame, those written meanwhile included, was in the database at the end (the WAL can start over). */
  caughtUp: boolean;
  /** A RESTART checkpoint ran (writers waited for the last frames). */
  restarted: boolean;
}

export interface CheckpointerOptions {
  /** The database file (its WAL index is `${path}-shm`). */
  path: string;
  /**
   * Pending frames that trigger a checkpoint (default 2000: 8 MB of 4 KiB
   * pages, about 65 chat turns; SQLite's own autocheckpoint, the backstop,
   * is set at 10000 in connection.ts).
   */
  thresholdFrames?: number;
  /**
   * A WAL this long that writes never let catch up is restarted (default
   * 8000 frames, 32 MB). Below the main connection's autocheckpoint, which
   * openStore raises to 40000 while this runs: it then only fires should
   * the worker fail.
   */
  restartFrames?: number;
  /** How long a RESTART waits for readers and the writer, ms (default 100): a commit on the event loop may wait about this long. */
  restartWaitMs?: number;
  /** How often the WAL index is read, ms (default 1000). */
  pollMs?: number;
  /**
   * The worker ends after this long without a checkpoint to do, ms (default
   * 1000; 0 ends it with its checkpoint). A live worker holds ~10 MB (a Node
   * environment of its own) and starting one costs ~80 ms of CPU on its own
   * thread: under steady writes one worker serves checkpoint after
   * checkpoint, and a gateway at rest keeps none.
   */
  idleExitMs?: number;
  /** Hears of every finished checkpoint. */
  onCheckpoint?: (report: CheckpointReport) => void;
  /** Hears of a checkpoint that failed (the next poll tries again; the autocheckpoint backstop remains). */
  onError?: (message: string) => void;
}

export interface Checkpointer {
  /** False when there is no WAL index to read (a database not in WAL mode): it then does nothing. */
  readonly active: boolean;
  /** WAL frames not yet copied into the database (0 when unknown). */
  pendingFrames(): number;
  /** Reads the WAL index now and starts a checkpoint if past the threshold; true when one was started. */
  poll(): boolean;
  /** Whether the worker thread is alive (it starts on the first checkpoint, ends when idle). */
  workerRunning(): boolean;
  /** Stops the timer and the worker. Call before the main connection closes. */
  stop(): void;
}

// Runs as CommonJS in the worker; `addon` is better-sqlite3's resolved path.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.addon);
const db = new Database(workerData.path, { fileMustExist: true, timeout: 0 });
db.pragma('synchronous = NORMAL');
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  const started = performance.now();
  try {
    // Writes that land during a pass leave frames behind, and SQLite starts
    // the WAL over only once every frame is in the database: a few short
    // passes catch a gap between commits.
    let row = db.pragma('wal_checkpoint(PASSIVE)')[0];
    const first = row;
    for (let pass = 1; pass < 8 && row.checkpointed < row.log; pass += 1) row = db.pragma('wal_checkpoint(PASSIVE)')[0];
    // Under writes that never pause the WAL would only grow: past restartFrames
    // a RESTART holds writers back for the last few frames (the passes above
    // copied the rest), so the next commit starts the WAL over. It holds the
    // write lock while it waits for readers, so it waits briefly (restartWaitMs):
    // a commit on the event loop waits at most about that long, and a long
    // reader (a backup, an export) only postpones the restart.
    let restarted = false;
    if (row.checkpointed < row.log && row.log >= workerData.restartFrames) {
      db.pragma('busy_timeout = ' + workerData.restartWaitMs);
      row = db.pragma('wal_checkpoint(RESTART)')[0];
      db.pragma('busy_timeout = 0');
      restarted = row.busy === 0;
    }
    parentPort.postMessage({ log: first.log, checkpointed: first.checkpointed, ms: performance.now() - started, caughtUp: row.checkpointed === row.log, restarted });
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message) });
  }
});
`;

/** Offsets in the WAL-index header (walformat.html §2.1); native byte order. */
const MX_FRAME_OFFSET = 16;
const N_BACKFILL_OFFSET = 96;
const HEADER_BYTES = 136;

export function startCheckpointer(opts: CheckpointerOptions): Checkpointer {
  const threshold = opts.thresholdFrames ?? 2000;
  const idleExitMs = opts.idleExitMs ?? 1000;
  const little = endianness() === 'LE';
  const header = Buffer.alloc(HEADER_BYTES);
  // The -shm file stays open for the store's life: closing any descriptor of
  // a file drops every POSIX lock this process holds on it, SQLite's included.
  // stop() is called before the main connection closes, which is also when
  // SQLite may remove the file.
  let shmFd: number | null = null;
  try {
    shmFd = openSync(`${opts.path}-shm`, 'r');
  } catch {
    // No WAL index (not in WAL mode, or in memory): nothing to do.
  }
  let worker: Worker | null = null;
  let inFlight = false;
  let idleTimer: NodeJS.Timeout | null = null;
  let stopped = false;

  const u32 = (offset: number) => (little ? header.readUInt32LE(offset) : header.readUInt32BE(offset));
  function pendingFrames(): number {
    if (shmFd === null) return 0;
    if (readSync(shmFd, header, 0, HEADER_BYTES, 0) < HEADER_BYTES) return 0;
    const mxFrame = u32(MX_FRAME_OFFSET);
    const backfilled = u32(N_BACKFILL_OFFSET);
    return mxFrame > backfilled ? mxFrame - backfilled : 0;
  }

  function endWorker(): Worker | null {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = null;
    const w = worker;
    worker = null;
    inFlight = false;
    w?.postMessage('close');
    return w;
  }

  function ensureWorker(): Worker {
    if (worker) return worker;
    const addon = createRequire(import.meta.url).resolve('better-sqlite3');
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { addon, path: opts.path, restartFrames: opts.restartFrames ?? 8000, restartWaitMs: opts.restartWaitMs ?? 100 } });
    w.unref();
    w.on('message', (message: CheckpointReport | { error: string }) => {
      if (w !== worker) return;
      inFlight = false;
      if ('error' in message) opts.onError?.(`background checkpoint failed: ${message.error}`);
      else opts.onCheckpoint?.(message);
      if (idleExitMs === 0) {
        endWorker();
        return;
      }
      idleTimer = setTimeout(endWorker, idleExitMs);
      idleTimer.unref();
    });
    w.on('error', (err) => {
      if (w !== worker) return;
      opts.onError?.(`background checkpoint worker failed: ${err.message}`);
      worker = null;
      inFlight = false;
    });
    worker = w;
    return w;
  }

  function poll(): boolean {
    if (stopped || inFlight) return false;
    let pending: number;
    try {
      pending = pendingFrames();
    } catch {
      return false;
    }
    if (pending < threshold) return false;
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = null;
    inFlight = true;
    ensureWorker().postMessage('checkpoint');
    return true;
  }

  const timer = shmFd === null ? null : setInterval(poll, opts.pollMs ?? 1000);
  timer?.unref();

  return {
    active: shmFd !== null,
    pendingFrames: () => {
      try {
        return pendingFrames();
      } catch {
        return 0;
      }
    },
    poll,
    workerRunning: () => worker !== null,
    stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearInterval(timer);
      const w = endWorker();
      // The descriptor is closed once the worker's connection is closed and
      // the main one (closed by the caller right after this) too: no SQLite
      // connection of this process is left to lose its locks.
      const fd = shmFd;
      shmFd = null;
      if (fd === null) return;
      const closeFd = () => setImmediate(() => closeSync(fd));
      if (w) w.once('exit', closeFd);
      else closeFd();
    },
  };
}
