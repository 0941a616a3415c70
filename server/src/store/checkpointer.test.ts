import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCheckpointer, type CheckpointReport, type Checkpointer } from './checkpointer';
import { openConnection, type Db } from './connection';
import { openStore } from './sqlite-store';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDb(): { db: Db; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'autoclaw-ckpt-'));
  dirs.push(dir);
  const path = join(dir, 'gateway.db');
  const db = openConnection(path);
  // Only the worker checkpoints in these tests.
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)');
  return { db, path };
}

/** Each commit writes at least one page (4 KiB): one WAL frame or more. */
function commits(db: Db, count: number): void {
  const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
  for (let i = 0; i < count; i += 1) insert.run('x'.repeat(3000));
}

function nextReport(reports: CheckpointReport[], count: number): Promise<CheckpointReport> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const look = () => {
      if (reports.length >= count) return resolve(reports[count - 1] as CheckpointReport);
      if (Date.now() - started > 10_000) return reject(new Error('no checkpoint within 10 s'));
      setTimeout(look, 5);
    };
    look();
  });
}

describe('background WAL checkpoints', () => {
  it('reads the frames waiting in the WAL and leaves them below the threshold alone', () => {
    const { db, path } = tempDb();
    const ckpt = startCheckpointer({ path, thresholdFrames: 500, pollMs: 60_000 });
    try {
      const before = ckpt.pendingFrames();
      commits(db, 40);
      const pending = ckpt.pendingFrames();
      // The WAL has never restarted: every frame in the file is pending.
      const frames = (statSync(`${path}-wal`).size - 32) / (4096 + 24);
      expect(pending).toBe(frames);
      expect(pending - before).toBeGreaterThanOrEqual(40);
      expect(ckpt.poll()).toBe(false);
      expect(ckpt.workerRunning()).toBe(false);
    } finally {
      ckpt.stop();
      db.close();
    }
  });

  it('copies the WAL into the database on a worker, and the WAL restarts instead of growing', async () => {
    const { db, path } = tempDb();
    const reports: CheckpointReport[] = [];
    const ckpt = startCheckpointer({ path, thresholdFrames: 100, pollMs: 60_000, idleExitMs: 0, onCheckpoint: (r) => reports.push(r) });
    try {
      commits(db, 150);
      const pending = ckpt.pendingFrames();
      expect(pending).toBeGreaterThanOrEqual(150);
      expect(ckpt.poll()).toBe(true);
      // One checkpoint at a time.
      expect(ckpt.poll()).toBe(false);
      const first = await nextReport(reports, 1);
      expect(first.log).toBe(pending);
      expect(first.checkpointed).toBe(pending);
      expect(ckpt.pendingFrames()).toBe(0);
      expect(first.caughtUp).toBe(true);
      // idleExitMs 0: the worker ended with its checkpoint.
      expect(ckpt.workerRunning()).toBe(false);
      const walSize = statSync(`${path}-wal`).size;
      // Ten more rounds: the next writes start the WAL over from its beginning.
      for (let round = 2; round <= 11; round += 1) {
        commits(db, 150);
        expect(ckpt.poll()).toBe(true);
        await nextReport(reports, round);
      }
      expect(statSync(`${path}-wal`).size).toBeLessThanOrEqual(walSize * 1.2);
      expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 1650 });
    } finally {
      ckpt.stop();
      db.close();
    }
  });

  it('restarts a WAL that a reader kept from catching up, once the reader is done', async () => {
    const { db, path } = tempDb();
    const reports: CheckpointReport[] = [];
    const ckpt = startCheckpointer({ path, thresholdFrames: 50, restartFrames: 100, restartWaitMs: 10_000, pollMs: 60_000, idleExitMs: 60_000, onCheckpoint: (r) => reports.push(r) });
    const reader = openConnection(path);
    try {
      // A first checkpoint, so the worker is up when the one under test starts.
      commits(db, 60);
      expect(ckpt.poll()).toBe(true);
      await nextReport(reports, 1);
      commits(db, 80);
      // A reader's snapshot: frames written after it cannot be copied while it lasts.
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM t').get();
      commits(db, 80);
      expect(ckpt.poll()).toBe(true);
      // The worker's passes stop at the reader's snapshot and its RESTART waits
      // for the reader (on the worker's thread); this thread ends the read meanwhile.
      setTimeout(() => reader.exec('COMMIT'), 300);
      const report = await nextReport(reports, 2);
      expect(report.checkpointed).toBeLessThan(report.log);
      expect(report.restarted).toBe(true);
      expect(report.caughtUp).toBe(true);
      commits(db, 1);
      // The WAL started over: only the newest commit (a few pages) is in it, not 160 commits.
      expect(ckpt.pendingFrames()).toBeLessThanOrEqual(5);
    } finally {
      ckpt.stop();
      reader.close();
      db.close();
    }
  });

  it('is inactive without a WAL index, and reports a worker that cannot open the database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'autoclaw-ckpt-bad-'));
    dirs.push(dir);
    const none = startCheckpointer({ path: join(dir, 'absent.db'), pollMs: 60_000 });
    expect(none.active).toBe(false);
    expect(none.poll()).toBe(false);
    none.stop();
    // A WAL index saying 5000 frames wait, beside no database at all.
    const header = Buffer.alloc(136);
    // Native byte order, as SQLite writes it.
    if (endianness() === 'LE') header.writeUInt32LE(5000, 16);
    else header.writeUInt32BE(5000, 16);
    writeFileSync(join(dir, 'gone.db-shm'), header);
    const errors: string[] = [];
    const ckpt = startCheckpointer({ path: join(dir, 'gone.db'), pollMs: 60_000, onError: (m) => errors.push(m) });
    try {
      expect(ckpt.active).toBe(true);
      expect(ckpt.pendingFrames()).toBe(5000);
      expect(ckpt.poll()).toBe(true);
      for (let i = 0; i < 500 && errors.length === 0; i += 1) await new Promise((r) => setTimeout(r, 10));
      expect(errors[0]).toMatch(/^background checkpoint worker failed: /);
      expect(ckpt.workerRunning()).toBe(false);
      // The next poll tries again.
      expect(ckpt.poll()).toBe(true);
    } finally {
      ckpt.stop();
    }
  });

  it('ends its worker after a quiet spell and starts it again when needed', async () => {
    const { db, path } = tempDb();
    const reports: CheckpointReport[] = [];
    const ckpt: Checkpointer = startCheckpointer({ path, thresholdFrames: 20, pollMs: 60_000, idleExitMs: 30, onCheckpoint: (r) => reports.push(r) });
    try {
      commits(db, 30);
      expect(ckpt.poll()).toBe(true);
      expect(ckpt.workerRunning()).toBe(true);
      await nextReport(reports, 1);
      // Kept for the next checkpoint a moment, then ended: no memory held at rest.
      expect(ckpt.workerRunning()).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
      expect(ckpt.workerRunning()).toBe(false);
      commits(db, 30);
      expect(ckpt.poll()).toBe(true);
      const second = await nextReport(reports, 2);
      expect(second.checkpointed).toBe(second.log);
    } finally {
      ckpt.stop();
      db.close();
    }
  });

  it('the gateway store checkpoints on its own timer, and closes cleanly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'autoclaw-ckpt-store-'));
    dirs.push(dir);
    const path = join(dir, 'gateway.db');
    const reports: CheckpointReport[] = [];
    const store = openStore({ path, backgroundCheckpoint: { thresholdFrames: 30, pollMs: 10, onCheckpoint: (r) => reports.push(r) } });
    const session = store.createSession({ name: 'ckpt' });
    for (let i = 0; i < 40; i += 1) store.insertUserMessage({ sessionId: session.id, clientId: `client-${1000 + i}`, text: `message ${i}` });
    const report = await nextReport(reports, 1);
    expect(report.log).toBeGreaterThanOrEqual(30);
    expect(report.checkpointed).toBe(report.log);
    store.close();
    // Wait for the worker's connection to close: the last connection removes the WAL.
    for (let i = 0; i < 200 && existsSync(`${path}-wal`); i += 1) await new Promise((r) => setTimeout(r, 10));
    expect(existsSync(`${path}-wal`)).toBe(false);
    const again = openStore({ path });
    expect(again.listMessages(session.id).length).toBe(40);
    again.close();
  });
});
