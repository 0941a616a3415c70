/** The schema version of a database file, read on its own read-only connection (the gateway's self-check). */
import Database from 'better-sqlite3';
import { schemaVersion } from './migrations';

export { SCHEMA_VERSION } from './migrations';

export function readSchemaVersion(path: string): number {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return schemaVersion(db);
  } finally {
    db.close();
  }
}
