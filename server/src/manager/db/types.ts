/**
 * The manager's storage layer, as its parts see it. One typed query layer
 * (kysely) over two engines: SQLite (better-sqlite3, the embedded default,
 * one file in the data directory) and PostgreSQL (pg, for several replicas).
 *
 * Each part declares its own tables by merging into `ManagerTables` from its
 * schema file:
 *
 *   declare module '../db/types' { interface ManagerTables { users: UsersTable } }
 *
 * and migrates them with `migratePart` — a new part adds its tables with a
 * migration and its queries through the same typed `Kysely<ManagerTables>`.
 */
import type { Kysely } from 'kysely';

/** Every table of the manager database, merged in by the parts that own them. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface ManagerTables {}

export const DATABASE_ENGINES = ['sqlite', 'postgres'] as const;
export type DatabaseEngine = (typeof DATABASE_ENGINES)[number];

/** Where the manager's state lives: the SQLite file in the data directory, or a PostgreSQL database. */
export type DatabaseTarget = { engine: 'sqlite'; path: string } | { engine: 'postgres'; url: string };

/** A query runner: the database itself, or one transaction of it. */
export type Executor = Kysely<ManagerTables>;

/**
 * Checks, inside a write's transaction, that the writer may still write —
 * e.g. that the leader lease it acts under still has its fencing token.
 */
export type Fence = (t: Executor) => Promise<void>;

export interface ManagerDb {
  readonly engine: DatabaseEngine;
  /** Queries outside a transaction (each statement commits on its own). */
  readonly k: Kysely<ManagerTables>;
  /**
   * Runs `fn` in one writing transaction and commits, or rolls back when it
   * throws. SQLite: BEGIN IMMEDIATE (the database's write lock, so writers in
   * other processes queue instead of failing); PostgreSQL: READ COMMITTED,
   * retried on a deadlock. `fn` must only run queries on `t` — never await
   * other work (an HTTP call, a password hash) while the transaction is open.
   */
  tx<T>(fn: (t: Executor) => Promise<T>): Promise<T>;
  /**
   * Inside `tx`: serialises every transaction that takes the same `name`,
   * across processes and replicas, until commit. PostgreSQL: a
   * transaction-scoped advisory lock; SQLite: nothing to do (IMMEDIATE
   * already holds the only write lock).
   */
  lock(t: Executor, name: string): Promise<void>;
  /** `engine` plus where (never a password): for logs and errors. */
  readonly where: string;
  close(): Promise<void>;
}
