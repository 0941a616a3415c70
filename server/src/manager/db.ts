/**
 * The manager's SQLite database (WAL) in its data directory. Each part of the
 * manager (accounts, audit, instances, …) owns its tables and migrates them
 * itself with `migratePart`, so parts evolve independently.
 */
import Database from 'better-sqlite3';
import { AppError } from '@autoclaw/shared';

export type ManagerDb = Database.Database;

export function openManagerDb(path: string): ManagerDb {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // WAL + NORMAL: a commit survives a crash of the process (kill -9); only a
  // power loss can drop the newest commits.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.exec('CREATE TABLE IF NOT EXISTS schema_versions (part TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  return db;
}

/**
 * Applies the migrations of one part that the database has not seen yet,
 * each in its own transaction. `migrations[i]` takes the part from version i
 * to i + 1. A database newer than the code is refused.
 */
export function migratePart(db: ManagerDb, part: string, migrations: readonly string[]): void {
  const row = db.prepare('SELECT version FROM schema_versions WHERE part = ?').get(part) as { version: number } | undefined;
  const current = row?.version ?? 0;
  if (current > migrations.length) {
    throw new AppError('CONFLICT', `the manager database has ${part} schema v${current}, newer than this build knows (v${migrations.length})`);
  }
  for (let v = current; v < migrations.length; v += 1) {
    db.transaction(() => {
      db.exec(migrations[v] as string);
      db.prepare('INSERT INTO schema_versions (part, version) VALUES (?, ?) ON CONFLICT(part) DO UPDATE SET version = excluded.version').run(part, v + 1);
    })();
  }
}
