/**
 * Every table of the manager database as text, rows in a stable order: what
 * tests compare before and after bad input ("changes nothing"), on either
 * engine. `exclude` leaves out tables that change on their own (leases and
 * replica heartbeats).
 */
import { sql } from 'kysely';
import type { ManagerDb } from './types';

export async function tableNames(db: ManagerDb): Promise<string[]> {
  const rows =
    db.engine === 'sqlite'
      ? await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`.execute(db.k)
      : await sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`.execute(db.k);
  return rows.rows.map((r) => r.name);
}

export async function dumpTables(db: ManagerDb, opts: { exclude?: readonly string[] } = {}): Promise<string> {
  const out: string[] = [];
  for (const name of await tableNames(db)) {
    if (opts.exclude?.includes(name)) continue;
    const rows = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(name)}`.execute(db.k);
    const lines = rows.rows.map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1))))).sort();
    out.push(`${name}: [${lines.join(',')}]`);
  }
  return out.join('\n');
}
