/** The audit table's rows and the per-entry checks shared by verify and the head's upkeep. */
import type { AuditEntry } from '@autoclaw/shared';
import type { ManagerDb } from '../db';
import { verifyManagerSignature } from '../keys';
import { entryHash, entrySigningInput } from './canonical';

export const AUDIT_MIGRATIONS: readonly string[] = [
  `CREATE TABLE audit_log (
     seq INTEGER PRIMARY KEY,
     at INTEGER NOT NULL,
     actor TEXT NOT NULL,
     action TEXT NOT NULL,
     target TEXT,
     details TEXT NOT NULL,
     prev_hash TEXT NOT NULL,
     hash TEXT NOT NULL,
     signature TEXT NOT NULL
   );
   CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
   CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;`,
];

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

export function selectRows(db: ManagerDb, afterSeq: number, limit: number): AuditRow[] {
  return db.prepare('SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?').all(afterSeq, limit) as AuditRow[];
}

export function lastRow(db: ManagerDb): AuditRow | undefined {
  return db.prepare('SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1').get() as AuditRow | undefined;
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
