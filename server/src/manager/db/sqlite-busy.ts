/**
 * SQLite's busy wait, made asynchronous. better-sqlite3 is synchronous: with
 * `busy_timeout`, a statement that finds the database locked by another
 * writer (the operator CLI, or in tests a second connection in the same
 * process) sleeps inside SQLite and freezes the whole event loop — and when
 * the lock holder is in the same process, it can never finish: a deadlock
 * until the timeout. So the connection runs with `busy_timeout = 0`, and a
 * query refused with SQLITE_BUSY is retried after an (async) pause, up to
 * `BUSY_WAIT_MS`, while everything else in the process goes on.
 */
import { SqliteDialect } from 'kysely';
import type { CompiledQuery, DatabaseConnection, Driver, QueryResult, TransactionSettings } from 'kysely';

const BUSY_WAIT_MS = 10_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code === 'SQLITE_LOCKED');
}

class PatientConnection implements DatabaseConnection {
  constructor(readonly inner: DatabaseConnection) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const deadline = performance.now() + BUSY_WAIT_MS;
    for (let pause = 1; ; pause = Math.min(50, pause * 2)) {
      try {
        return await this.inner.executeQuery<R>(query);
      } catch (err) {
        if (!isBusy(err) || performance.now() > deadline) throw err;
        await sleep(pause);
      }
    }
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

class PatientDriver implements Driver {
  readonly #connections = new WeakMap<DatabaseConnection, PatientConnection>();
  constructor(private readonly inner: Driver) {}

  #wrap(c: DatabaseConnection): PatientConnection {
    let w = this.#connections.get(c);
    if (!w) this.#connections.set(c, (w = new PatientConnection(c)));
    return w;
  }

  private unwrap(c: DatabaseConnection): DatabaseConnection {
    return c instanceof PatientConnection ? c.inner : c;
  }

  init = () => this.inner.init();
  acquireConnection = async () => this.#wrap(await this.inner.acquireConnection());
  // kysely's own transactions (this layer uses BEGIN IMMEDIATE through executeQuery instead).
  beginTransaction = (c: DatabaseConnection, settings: TransactionSettings) => this.inner.beginTransaction(this.unwrap(c), settings);
  commitTransaction = (c: DatabaseConnection) => this.inner.commitTransaction(this.unwrap(c));
  rollbackTransaction = (c: DatabaseConnection) => this.inner.rollbackTransaction(this.unwrap(c));
  releaseConnection = (c: DatabaseConnection) => this.inner.releaseConnection(this.unwrap(c));
  destroy = () => this.inner.destroy();
}

/** kysely's SQLite dialect, with SQLITE_BUSY waited out asynchronously. */
export class PatientSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    return new PatientDriver(super.createDriver());
  }
}
