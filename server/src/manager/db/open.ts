/**
 * Opens the manager database on either engine behind one kysely instance.
 *
 * Why kysely over its two dialects (and not PGlite as the one embedded
 * engine): kysely is a typed query builder made for exactly this — the same
 * query compiles to SQLite or PostgreSQL — and it keeps better-sqlite3, the
 * engine the gateway's store and every existing manager.db already use
 * (WAL, `kill -9`-safe commits, the online backup API), while PGlite would
 * put a WebAssembly PostgreSQL (~10 MB, slower start, one connection, a new
 * file format) inside the default single-machine install only to save a few
 * dialect branches. Those branches stay small and are written where they
 * are needed (migrations, locks, upserts).
 *
 * PostgreSQL's driver is loaded only when a `postgres://` URL is given, so
 * the embedded default pays nothing for it.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Dialect } from 'kysely';
import type { PoolConfig } from 'pg';
import { AppError } from '@autoclaw/shared';
import { PatientSqliteDialect } from './sqlite-busy';
import type { DatabaseTarget, Executor, ManagerDb, ManagerTables } from './types';

/** pg error codes worth one more try: a deadlock, a serialization failure. */
const RETRYABLE_PG = new Set(['40P01', '40001']);
const PG_TX_ATTEMPTS = 3;
/** better-sqlite3 statements are reusable; kysely prepares each query anew, so keep the recent ones. */
const STATEMENT_CACHE = 200;

/** A 64-bit advisory-lock key for a name (stable across versions, unlike hashtext). */
export function lockKey(name: string): string {
  return createHash('sha256').update(`autoclaw-lock/v1\n${name}`).digest().readBigInt64BE(0).toString();
}

/** The URL with its password (if any) replaced, for logs and errors. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

function openSqlite(path: string, readonly: boolean): Dialect {
  const raw = readonly ? new Database(path, { readonly: true, fileMustExist: true }) : new Database(path);
  if (!readonly) {
    raw.pragma('journal_mode = WAL');
    // WAL + NORMAL: a commit survives a crash of the process (kill -9); only a
    // power loss can drop the newest commits.
    raw.pragma('synchronous = NORMAL');
    raw.pragma('foreign_keys = ON');
  }
  // Never sleep inside SQLite (it would block the event loop): SQLITE_BUSY is waited out asynchronously (sqlite-busy.ts).
  raw.pragma('busy_timeout = 0');
  const cache = new Map<string, Database.Statement>();
  const database = {
    close: () => raw.close(),
    prepare(text: string) {
      let stmt = cache.get(text);
      if (stmt) {
        // Most recently used last: the first key is the one to drop.
        cache.delete(text);
      } else {
        stmt = raw.prepare(text);
        if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value as string);
      }
      cache.set(text, stmt);
      return stmt;
    },
  };
  return new PatientSqliteDialect({ database });
}

async function openPostgres(url: string, readonly: boolean): Promise<Dialect> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({
    connectionString: url,
    // A verifier's connection cannot write, whatever it runs.
    ...(readonly ? { options: '-c default_transaction_read_only=on' } : {}),
    max: 10,
    connectionTimeoutMillis: 10_000,
    // Idle connections stay open (no idle timer per connection: a long-lived server reuses them).
    idleTimeoutMillis: 0,
    // BIGINT (int8) columns hold millisecond times and counters, all far below 2^53: numbers, not strings.
    types: { getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) },
  } as PoolConfig);
  // An idle client losing its server (a restart, a failover) must not crash the manager.
  pool.on('error', () => undefined);
  return new PostgresDialect({ pool });
}

function pgCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** A connection error from pg (or the socket under it) as a typed, password-free AppError. */
function unreachable(where: string, err: unknown): AppError {
  const code = pgCode(err);
  const reason = code === '28P01' ? 'the password was refused' : code === '3D000' ? 'the database does not exist' : (code ?? (err instanceof Error ? err.message : String(err)));
  return new AppError('PROVIDER_UNAVAILABLE', `cannot use the manager database ${where}: ${reason}`, { cause: err });
}

/**
 * Opens the database (creating the SQLite file, or checking the PostgreSQL
 * server answers). `readonly`: nothing can be written through it (a verifier).
 */
export async function openManagerDb(target: DatabaseTarget, opts: { readonly?: boolean } = {}): Promise<ManagerDb> {
  const readonly = opts.readonly === true;
  const where = target.engine === 'sqlite' ? `sqlite:${target.path}` : redactUrl(target.url);
  let dialect: Dialect;
  if (target.engine === 'sqlite') {
    try {
      dialect = openSqlite(target.path, readonly);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (readonly && (code === 'SQLITE_CANTOPEN' || code === 'ENOENT')) throw new AppError('NOT_FOUND', `no manager database at ${target.path}`, { cause: err });
      throw new AppError('INTERNAL', `cannot open the manager database ${where}: ${code ?? (err as Error).message}`, { cause: err });
    }
  } else {
    dialect = await openPostgres(target.url, readonly);
  }
  const k = new Kysely<ManagerTables>({ dialect });
  if (target.engine === 'postgres') {
    try {
      await sql`select 1`.execute(k);
    } catch (err) {
      await k.destroy().catch(() => undefined);
      throw unreachable(where, err);
    }
  }

  async function sqliteTx<T>(fn: (t: Executor) => Promise<T>): Promise<T> {
    return k.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        const out = await fn(conn);
        await sql`commit`.execute(conn);
        return out;
      } catch (err) {
        await sql`rollback`.execute(conn).catch(() => undefined);
        throw err;
      }
    });
  }

  async function pgTx<T>(fn: (t: Executor) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await k.transaction().execute(fn);
      } catch (err) {
        if (attempt < PG_TX_ATTEMPTS && RETRYABLE_PG.has(pgCode(err) ?? '')) continue;
        throw err;
      }
    }
  }

  const db: ManagerDb = {
    engine: target.engine,
    k,
    where,
    tx: target.engine === 'sqlite' ? sqliteTx : pgTx,
    async lock(t, name) {
      if (target.engine === 'postgres') await sql`select pg_advisory_xact_lock(${lockKey(name)}::bigint)`.execute(t);
    },
    close: () => k.destroy(),
  };
  return db;
}

/** Whether `err` is a unique-key (or primary-key) violation on either engine. */
export function isUniqueViolation(err: unknown): boolean {
  const code = pgCode(err);
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

