/** A throw-away PostgreSQL cluster (see test-postgres.mjs). */
export interface TestPostgres {
  /** postgres://SUPERUSER@127.0.0.1:PORT/postgres (trusted on loopback). */
  url: string;
  port: number;
  dir: string;
  /** Stops the server and removes its directory. */
  stop(): void;
}

export function startTestPostgres(options?: { log?: (line: string) => void }): Promise<TestPostgres>;
