/** The files of a manager's data directory. */
import { join } from 'node:path';
import { ensurePrivateDir } from '../security';
import { preparePrivateDbFile } from '../store';

export const MANAGER_DB_FILE = 'manager.db';
export const MANAGER_KEY_FILE = 'manager.key';
export const MASTER_KEY_FILE = 'master.key';
export const OPERATOR_KEY_FILE = 'operator.key';
export const AUDIT_HEAD_FILE = 'audit-head.json';
export const MANAGER_RUNTIME_FILE = 'manager-runtime.json';

export const managerDbPath = (dataDir: string): string => join(dataDir, MANAGER_DB_FILE);
export const managerKeyPath = (dataDir: string): string => join(dataDir, MANAGER_KEY_FILE);
export const masterKeyPath = (dataDir: string): string => join(dataDir, MASTER_KEY_FILE);
export const operatorKeyPath = (dataDir: string): string => join(dataDir, OPERATOR_KEY_FILE);
export const auditHeadPath = (dataDir: string): string => join(dataDir, AUDIT_HEAD_FILE);
export const managerRuntimePath = (dataDir: string): string => join(dataDir, MANAGER_RUNTIME_FILE);

/**
 * Makes the data directory 0700 (tightening an existing looser one) and —
 * when the state is in SQLite — the database file 0600 before it is opened
 * (SQLite gives -wal and -shm its mode). Returns warnings for what could not
 * be restricted, with the reason.
 */
export function preparePrivateDataDir(dataDir: string, database?: { engine: 'sqlite'; path: string } | { engine: 'postgres' }): string[] {
  const db = database ?? { engine: 'sqlite' as const, path: managerDbPath(dataDir) };
  return [ensurePrivateDir(dataDir), db.engine === 'sqlite' ? preparePrivateDbFile(db.path) : null].filter((w): w is string => w !== null);
}
