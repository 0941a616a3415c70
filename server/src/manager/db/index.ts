/** The manager's storage layer: one typed query layer on SQLite or PostgreSQL (see types.ts and open.ts). */
export { openManagerDb, isUniqueViolation, redactUrl } from './open';
export { migratePart, sqlWords } from './migrate';
export type { Migration, SqlWords } from './migrate';
export { dumpTables, tableNames } from './dump';
export { DATABASE_ENGINES } from './types';
export type { DatabaseEngine, DatabaseTarget, Executor, Fence, ManagerDb, ManagerTables } from './types';
