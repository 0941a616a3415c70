/**
 * Test support (never imported by product code): the database a test's
 * manager runs on. In the `sqlite` test project, the file in its data
 * directory; in the `postgres` project, a fresh database made for it in the
 * throw-away cluster the project's global setup started — so every manager a
 * test starts has its own, empty state on either engine. Raw SQL for tests
 * that play an attacker with the database (tampering with the audit log).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { inject } from 'vitest';
import { DATABASE_URL_ENV } from '../config';
import type { DatabaseEngine, DatabaseTarget } from './types';

declare module 'vitest' {
  interface ProvidedContext {
    /** The superuser URL of the test cluster (only in the `postgres` project). */
    autoclawPostgresUrl: string;
  }
}

export function testEngine(): DatabaseEngine {
  return adminUrl() === undefined ? 'sqlite' : 'postgres';
}

/**
 * A kill -9 matrix's steps on this engine: all of them on SQLite; on
 * PostgreSQL (the project that runs the manager's tests a second time) the
 * few given, those whose recovery reads the most state back. The store code
 * that persists a step is the same at every step; the steps themselves are
 * covered on SQLite.
 */
export function crashStepsFor<T>(all: readonly T[], onPostgres: readonly T[]): readonly T[] {
  return testEngine() === 'postgres' ? onPostgres : all;
}

function adminUrl(): string | undefined {
  try {
    return inject('autoclawPostgresUrl') || undefined;
  } catch {
    return undefined;
  }
}

export interface TestDatabase {
  target: DatabaseTarget;
  /** For `autoclaw` child processes: AUTOCLAW_DATABASE_URL on PostgreSQL, nothing on SQLite. */
  env: Record<string, string>;
  /** Removes the database (PostgreSQL; the SQLite file goes with its directory). */
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const url = adminUrl();
  if (!url) throw new Error('no test PostgreSQL cluster in this project');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function databaseUrl(name: string): string {
  const url = new URL(adminUrl() as string);
  url.pathname = `/${name}`;
  return url.toString();
}

function postgresDatabase(name: string): TestDatabase {
  const url = databaseUrl(name);
  return {
    target: { engine: 'postgres', url },
    env: { [DATABASE_URL_ENV]: url },
    drop: () => admin(async (c) => void (await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))),
  };
}

/** The database for a manager on `dataDir`: its SQLite file, or a new PostgreSQL database. */
export async function createTestDatabase(dataDir: string): Promise<TestDatabase> {
  if (testEngine() === 'sqlite') return { target: { engine: 'sqlite', path: join(dataDir, 'manager.db') }, env: {}, drop: async () => {} };
  const name = `t_${randomBytes(6).toString('hex')}`;
  await admin(async (c) => void (await c.query(`CREATE DATABASE "${name}"`)));
  return postgresDatabase(name);
}

/** A copy of a (PostgreSQL) test database, as it is now: nobody may be connected to it. */
export async function copyTestDatabase(from: TestDatabase, toDir: string): Promise<TestDatabase> {
  if (from.target.engine === 'sqlite') return { target: { engine: 'sqlite', path: join(toDir, 'manager.db') }, env: {}, drop: async () => {} };
  const source = new URL(from.target.url).pathname.slice(1);
  const name = `t_${randomBytes(6).toString('hex')}`;
  await admin(async (c) => void (await c.query(`CREATE DATABASE "${name}" TEMPLATE "${source}"`)));
  return postgresDatabase(name);
}

/** Plain SQL on a test database, as an attacker with access to it would write it (`?` placeholders on both engines). */
export interface RawSql {
  run(sql: string, ...params: unknown[]): Promise<void>;
  all<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]>;
  /** Drops the triggers that keep the audit log append-only. */
  dropAuditGuards(): Promise<void>;
}

const numbered = (sql: string) => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

export async function withRawSql<T>(target: DatabaseTarget, fn: (db: RawSql) => Promise<T>): Promise<T> {
  if (target.engine === 'sqlite') {
    const db = new Database(target.path);
    try {
      return await fn({
        async run(sql, ...params) {
          db.prepare(sql).run(...params);
        },
        async all<R>(sql: string, ...params: unknown[]) {
          return db.prepare(sql).all(...params) as R[];
        },
        async dropAuditGuards() {
          db.exec('DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;');
        },
      });
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: target.url });
  // BIGINT columns as numbers, as the manager reads them.
  client.setTypeParser(20, (v: string) => Number(v));
  await client.connect();
  try {
    return await fn({
      async run(sql, ...params) {
        await client.query(numbered(sql), params);
      },
      async all<R>(sql: string, ...params: unknown[]) {
        return (await client.query(numbered(sql), params)).rows as R[];
      },
      async dropAuditGuards() {
        for (const t of ['audit_log_no_update', 'audit_log_no_delete', 'audit_log_no_truncate']) await client.query(`DROP TRIGGER IF EXISTS ${t} ON audit_log`);
      },
    });
  } finally {
    await client.end();
  }
}
