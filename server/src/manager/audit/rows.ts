/** The audit table's rows and the per-entry checks shared by verify and the head's upkeep. */
import type { AuditEntry } from '@autoclaw/shared';
import type { Executor, Migration } from '../db';
import { verifyManagerSignature } from '../keys';
import { entryHash, entrySigningInput } from './canonical';

export interface AuditRow {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  details: string;
  prev_hash: string;
  hash: string;
  signature: string;
}

declare module '../db/types' {
  interface ManagerTables {
    audit_log: AuditRow;
  }
}

const APPEND_ONLY = 'the audit log is append-only';

export const AUDIT_MIGRATIONS: readonly Migration[] = [
  (w) => [
    `CREATE TABLE audit_log (
       seq ${w.int} PRIMARY KEY,
       at ${w.int} NOT NULL,
       actor TEXT NOT NULL,
       action TEXT NOT NULL,
       target TEXT,
       details TEXT NOT NULL,
       prev_hash TEXT NOT NULL,
       hash TEXT NOT NULL,
       signature TEXT NOT NULL
     )`,
    // Append-only for the program: each engine's own trigger language.
    ...(w.engine === 'sqlite'
      ? [
          `CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY}'); END`,
          `CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY}'); END`,
        ]
      : [
          `CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '${APPEND_ONLY}'; END $$`,
          'CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()',
          'CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()',
          'CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()',
        ]),
  ],
];

export function parseDetails(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function rowToEntry(row: AuditRow): AuditEntry {
  return {
    seq: row.seq,
    at: row.at,
    actor: row.actor,
    action: row.action,
    target: row.target,
    details: parseDetails(row.details) ?? {},
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export function selectRows(x: Executor, afterSeq: number, limit: number): Promise<AuditRow[]> {
  return x.selectFrom('audit_log').selectAll().where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();
}

export function lastRow(x: Executor): Promise<AuditRow | undefined> {
  return x.selectFrom('audit_log').selectAll().orderBy('seq', 'desc').limit(1).executeTakeFirst();
}

export async function hashAt(x: Executor, seq: number): Promise<string | undefined> {
  return (await x.selectFrom('audit_log').select('hash').where('seq', '=', seq).executeTakeFirst())?.hash;
}

export async function countRows(x: Executor): Promise<number> {
  const row = await x.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * What is wrong with `row`, given the entry before it (null at the start), or
 * null when it is as the manager wrote it.
 */
export function rowProblem(row: AuditRow, expectedSeq: number, prevHash: string, publicKey: string): string | null {
  if (row.seq > expectedSeq) return `entry ${expectedSeq} is missing (removed from the log)`;
  if (row.seq !== expectedSeq) return `entry ${row.seq} is out of place (expected entry ${expectedSeq})`;
  if (row.prev_hash !== prevHash) return `entry ${row.seq} does not follow entry ${row.seq - 1} (entries were reordered or removed)`;
  const details = parseDetails(row.details);
  if (details === null || typeof row.at !== 'number' || typeof row.actor !== 'string' || typeof row.action !== 'string') {
    return `entry ${row.seq} was edited (its fields are malformed)`;
  }
  const hash = entryHash({ seq: row.seq, at: row.at, actor: row.actor, action: row.action, target: row.target, details, prevHash: row.prev_hash });
  if (hash !== row.hash) return `entry ${row.seq} was edited (its hash does not match its content)`;
  if (!verifyManagerSignature(publicKey, entrySigningInput(row.seq, row.hash), row.signature)) {
    return `entry ${row.seq} is not signed by the manager's key (the chain was recomputed without the key)`;
  }
  return null;
}
