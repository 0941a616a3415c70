/**
 * The append-only, hash-chained audit log. Each entry carries the hash of
 * the one before it and its own Ed25519 signature; after each append the
 * manager signs the head `{count, hash}` and writes it to `DIR/audit-head.json`,
 * apart from the table.
 *
 * The head is written after the entry commits (a head ahead of its table
 * would read as truncation). A crash in between, or an append inside a
 * caller's transaction, leaves the head a little behind; the next append or
 * start brings it up to date — but only over entries whose chain and
 * signatures check, so nothing forged is ever vouched for.
 */
import type { AuditEntry } from '@autoclaw/shared';
import { AppError } from '@autoclaw/shared';
import { migratePart } from '../db';
import type { ManagerDb } from '../db';
import type { Logger } from '../gateway-parts';
import { canonicalJson, entryHash, entrySigningInput, GENESIS_HASH } from './canonical';
import { headSignatureValid, readHeadFile, writeHeadFile } from './head-file';
import { AUDIT_MIGRATIONS, lastRow, rowProblem, rowToEntry, selectRows } from './rows';

export interface AuditAppend {
  /** `user:<id>`, `operator` (the CLI) or `system`. */
  actor: string;
  /** Dotted verb, e.g. `auth.signIn`, `instance.start`, `device.revoke`. */
  action: string;
  /** What was acted on (an email, an instance id, a device id), or null. */
  target?: string | null;
  /** Plain JSON facts; never secrets. */
  details?: Record<string, unknown>;
}

/** What other parts of the manager use to record an administrative action. */
export interface AuditLog {
  append(entry: AuditAppend): AuditEntry;
  /** Entries after `afterSeq` (oldest first). */
  list(opts?: { afterSeq?: number; limit?: number }): AuditEntry[];
  count(): number;
}

export interface AuditLogOptions {
  db: ManagerDb;
  headPath: string;
  /** Signs with the manager's key (base64url). */
  sign: (payload: string) => string;
  publicKey: string;
  now: () => number;
  logger: Logger;
}

const MAX_LABEL = 200;

function label(name: string, value: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LABEL) {
    throw new AppError('INTERNAL', `audit ${name} must be 1–${MAX_LABEL} characters`);
  }
  return value;
}

/** Opens the audit log (migrating its table) and brings its head up to date. */
export function openAuditLog(opts: AuditLogOptions): AuditLog {
  const { db, headPath, sign, publicKey, now, logger } = opts;
  const fresh = !db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'").get();
  migratePart(db, 'audit', AUDIT_MIGRATIONS);
  const insert = db.prepare(
    'INSERT INTO audit_log (seq, at, actor, action, target, details, prev_hash, hash, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  let warned = false;

  function refuseHead(reason: string): void {
    if (warned) return;
    warned = true;
    logger.error('the audit head is not updated: run "autoclaw audit verify"', { reason });
  }

  /** Signs the table's newest entry as the head, when every entry after the current head checks. */
  function refreshHead(): void {
    const read = readHeadFile(headPath);
    const last = lastRow(db);
    if (read.kind === 'missing') {
      if (fresh && !last) writeHeadFile(headPath, { count: 0, hash: GENESIS_HASH, at: now() }, sign);
      else refuseHead('the head file is missing');
      return;
    }
    if (read.kind === 'unreadable') return refuseHead(read.reason);
    const { head } = read;
    if (!headSignatureValid(head, publicKey)) return refuseHead('the head signature does not verify');
    if (!last || head.count >= last.seq) return;
    const anchor = head.count === 0 ? GENESIS_HASH : (db.prepare('SELECT hash FROM audit_log WHERE seq = ?').get(head.count) as { hash: string } | undefined)?.hash;
    if (anchor !== head.hash) return refuseHead(`entry ${head.count} does not match the signed head`);
    let prev = head.hash;
    let expected = head.count + 1;
    for (const row of selectRows(db, head.count, 1_000_000)) {
      const problem = rowProblem(row, expected, prev, publicKey);
      if (problem) return refuseHead(problem);
      prev = row.hash;
      expected += 1;
    }
    writeHeadFile(headPath, { count: last.seq, hash: last.hash, at: now() }, sign);
  }

  const appendTx = db.transaction((entry: AuditAppend): AuditEntry => {
    const details = entry.details ?? {};
    const detailsText = canonicalJson(details);
    const last = lastRow(db);
    const fields = {
      seq: (last?.seq ?? 0) + 1,
      at: now(),
      actor: label('actor', entry.actor),
      action: label('action', entry.action),
      target: entry.target ?? null,
      details: JSON.parse(detailsText) as Record<string, unknown>,
      prevHash: last?.hash ?? GENESIS_HASH,
    };
    const hash = entryHash(fields);
    insert.run(fields.seq, fields.at, fields.actor, fields.action, fields.target, detailsText, fields.prevHash, hash, sign(entrySigningInput(fields.seq, hash)));
    return { ...fields, hash };
  });

  try {
    refreshHead();
  } catch (err) {
    logger.error('could not update the audit head', { err });
  }

  return {
    append(entry) {
      // IMMEDIATE takes the write lock first, so two processes never pick the same seq.
      const written = db.inTransaction ? appendTx(entry) : appendTx.immediate(entry);
      if (!db.inTransaction) {
        try {
          refreshHead();
        } catch (err) {
          // The entry is committed and signed; the head catches up on the next append.
          logger.error('could not update the audit head', { err });
        }
      }
      return written;
    },
    list(listOpts = {}) {
      return selectRows(db, listOpts.afterSeq ?? 0, listOpts.limit ?? 100).map(rowToEntry);
    },
    count() {
      return (db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n;
    },
  };
}
