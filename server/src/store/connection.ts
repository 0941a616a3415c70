/**
 * Opening the SQLite file and turning SQLite's errors into AppErrors, so no
 * caller ever sees a raw SqliteError.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { AppError } from '@autoclaw/shared';
import { preparePrivateDbFile } from './private-db-file';

export type Db = Database.Database;

/** WAL frames after which a commit runs a checkpoint itself (see openConnection). */
export const AUTOCHECKPOINT_FRAMES = 10_000;

/** How long a statement waits for another process's write lock. */
export const BUSY_TIMEOUT_MS = 5_000;

/** Opens the database; `onWarning` hears of files that stay readable by others (see preparePrivateDbFile). */
export function openConnection(path: string, onWarning?: (message: string) => void): Db {
  let db: Db;
  try {
    if (path !== ':memory:') {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const warning = preparePrivateDbFile(path);
      if (warning) onWarning?.(warning);
    }
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  } catch (err) {
    throw new AppError('INTERNAL', `cannot open the database at ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    // busy_timeout first: switching to WAL needs a lock another process may hold.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (path !== ':memory:' && mode !== 'wal') {
      throw new AppError('INTERNAL', `the database at ${path} cannot use WAL mode (got "${String(mode)}")`);
    }
    // In WAL mode a commit is appended to the -wal file before COMMIT returns.
    // With synchronous=NORMAL that write is not fsynced, but it sits in the OS
    // page cache, which a process crash (even kill -9) cannot lose: the next
    // open replays the WAL. Only a power loss / kernel crash can drop the newest
    // commits, and even then the database stays consistent (WAL checkpoints are
    // fsynced). FULL would fsync every commit and cap us at disk-flush speed,
    // far below the 20k acknowledged messages/s target.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // A checkpoint fsyncs; doing it every ~40 MB of WAL instead of every 4 MB
    // keeps fsyncs rare under a burst of messages. The file is cut back to
    // 64 MB after a checkpoint so an idle gateway does not keep a huge WAL.
    db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_FRAMES}`);
    db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    return db;
  } catch (err) {
    db.close();
    throw toAppError(err);
  }
}

interface SqliteErrorLike {
  code: string;
  message: string;
}

function isSqliteError(err: unknown): err is SqliteErrorLike {
  return (
    err instanceof Error &&
    err.name === 'SqliteError' &&
    typeof (err as Partial<SqliteErrorLike>).code === 'string'
  );
}

/** Maps any error thrown inside the store to an AppError (AppErrors pass through). */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isSqliteError(err)) {
    const code = err.code;
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      return new AppError('TIMEOUT', 'the database is busy (another process holds its lock); try again', { cause: err });
    }
    if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
      return new AppError('NOT_FOUND', 'a referenced record does not exist', { cause: err });
    }
    if (code.startsWith('SQLITE_CONSTRAINT')) {
      return new AppError('CONFLICT', 'the record conflicts with one already stored', { cause: err });
    }
    if (code === 'SQLITE_FULL') {
      return new AppError('INTERNAL', 'the disk is full: the database cannot grow', { cause: err });
    }
    return new AppError('INTERNAL', `database error (${code})`, { cause: err });
  }
  return new AppError('INTERNAL', 'unexpected store error', { cause: err });
}

/**
 * Wraps every method of `target` so that what escapes is an AppError.
 * Kept generic so each store part stays free of try/catch noise.
 */
export function guardMethods<T extends object>(target: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(target)) {
    if (typeof value !== 'function') {
      out[key] = value;
      continue;
    }
    const fn = value as (...args: unknown[]) => unknown;
    out[key] = (...args: unknown[]): unknown => {
      try {
        return fn(...args);
      } catch (err) {
        throw toAppError(err);
      }
    };
  }
  return out as T;
}
