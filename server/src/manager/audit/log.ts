/**
 * The append-only, hash-chained audit log. Each entry carries the hash of
 * the one before it and its own Ed25519 signature; after each append the
 * manager signs the head `{count, hash}` and writes it to `DIR/audit-head.json`,
 * apart from the table, and to the anchor kept with the master key.
 *
 * ONE chain across replicas: an append takes the audit lock in the database
 * (PostgreSQL: a transaction-scoped advisory lock; SQLite: BEGIN IMMEDIATE)
 * before it reads the last entry, so two replicas never pick the same seq
 * or fork the chain — the order is the database's, not a process's.
 *
 * The head is written after the entry commits (a head ahead of its table
 * would read as truncation). A crash in between, or an append inside a
 * caller's transaction, leaves the head a little behind; the next append or
 * start brings it up to date — but only over entries whose chain and
 * signatures check, so nothing forged is ever vouched for.
 */
import type { AuditEntry } from '@autoclaw/shared';
import { AppError } from '@autoclaw/shared';
import { migratePart, tableNames } from '../db';
import type { Executor, ManagerDb } from '../db';
import type { Logger } from '../gateway-parts';
import type { AuditAnchorStore } from './anchor';
import { canonicalJson, entryHash, entrySigningInput, GENESIS_HASH } from './canonical';
import { headSignatureValid, readHeadFile, signHead, writeHeadFile } from './head-file';
import { AUDIT_MIGRATIONS, countRows, hashAt, lastRow, rowProblem, rowToEntry, selectRows } from './rows';

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
  /**
   * Appends an entry. Given `t`, inside that transaction (it commits or rolls
   * back with the caller's action; call `refreshHead` after it committed).
   */
  append(entry: AuditAppend, t?: Executor): Promise<AuditEntry>;
  /** Entries after `afterSeq` (oldest first). */
  list(opts?: { afterSeq?: number; limit?: number }): Promise<AuditEntry[]>;
  count(): Promise<number>;
  /** Signs the newest checked entry as the head (and the anchor). */
  refreshHead(): Promise<void>;
}

export interface AuditLogOptions {
  db: ManagerDb;
  headPath: string;
  /** The copy of the head kept with the master key (absent: only the head file). */
  anchor?: AuditAnchorStore;
  /** Signs with the manager's key (base64url). */
  sign: (payload: string) => string;
  publicKey: string;
  now: () => number;
  logger: Logger;
}

/** The database lock every append and head update takes. */
export const AUDIT_LOCK = 'audit-log';

const MAX_LABEL = 200;

function label(name: string, value: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LABEL) {
    throw new AppError('INTERNAL', `audit ${name} must be 1–${MAX_LABEL} characters`);
  }
  return value;
}

/** Opens the audit log (migrating its table) and brings its head up to date. */
export async function openAuditLog(opts: AuditLogOptions): Promise<AuditLog> {
  const { db, headPath, anchor, sign, publicKey, now, logger } = opts;
  const fresh = !(await tableNames(db)).includes('audit_log');
  await migratePart(db, 'audit', AUDIT_MIGRATIONS);

  let warned = false;
  function refuseHead(reason: string): void {
    if (warned) return;
    warned = true;
    logger.error('the audit head is not updated: run "autoclaw audit verify"', { reason });
  }

  /** The anchor follows the head forward, never back (and never past a head it does not continue). */
  function moveAnchor(count: number, hash: string): void {
    if (!anchor) return;
    const read = anchor.read();
    if (read.kind === 'unreadable') return refuseHead(`the audit anchor in ${anchor.where} is unreadable: ${read.reason}`);
    if (read.kind === 'ok' && read.head.count >= count) return;
    anchor.write(signHead({ count, hash, at: now() }, sign));
  }

  /** Signs the table's newest entry as the head, when every entry after the current head checks. Under the audit lock. */
  async function refreshIn(t: Executor): Promise<void> {
    const read = readHeadFile(headPath);
    const last = await lastRow(t);
    if (read.kind === 'missing') {
      // A new log (here, or made a moment ago by another replica starting at the same time): nothing to vouch for yet.
      const anchored = anchor?.read();
      const anchorEmpty = !anchored || anchored.kind === 'missing' || (anchored.kind === 'ok' && anchored.head.count === 0);
      if (!last && (fresh || anchorEmpty)) {
        const head = writeHeadFile(headPath, { count: 0, hash: GENESIS_HASH, at: now() }, sign);
        moveAnchor(head.count, head.hash);
      } else refuseHead('the head file is missing');
      return;
    }
    if (read.kind === 'unreadable') return refuseHead(read.reason);
    const { head } = read;
    if (!headSignatureValid(head, publicKey)) return refuseHead('the head signature does not verify');
    if (!last || head.count >= last.seq) {
      // Up to date; an anchor from before this version is made now.
      if (last && head.count === last.seq && head.hash === last.hash) moveAnchor(head.count, head.hash);
      return;
    }
    const anchorHash = head.count === 0 ? GENESIS_HASH : await hashAt(t, head.count);
    if (anchorHash !== head.hash) return refuseHead(`entry ${head.count} does not match the signed head`);
    let prev = head.hash;
    let expected = head.count + 1;
    for (;;) {
      const rows = await selectRows(t, expected - 1, 1_000);
      for (const row of rows) {
        const problem = rowProblem(row, expected, prev, publicKey);
        if (problem) return refuseHead(problem);
        prev = row.hash;
        expected += 1;
      }
      if (rows.length < 1_000) break;
    }
    const written = writeHeadFile(headPath, { count: expected - 1, hash: prev, at: now() }, sign);
    moveAnchor(written.count, written.hash);
  }

  async function refreshHead(): Promise<void> {
    try {
      // Under the audit lock: replicas sharing the head file never write it out of order.
      await db.tx(async (t) => {
        await db.lock(t, AUDIT_LOCK);
        await refreshIn(t);
      });
    } catch (err) {
      // The entries are committed and signed; the head catches up on the next append.
      logger.error('could not update the audit head', { err });
    }
  }

  async function appendIn(t: Executor, entry: AuditAppend): Promise<AuditEntry> {
    const details = entry.details ?? {};
    const detailsText = canonicalJson(details);
    const actor = label('actor', entry.actor);
    const action = label('action', entry.action);
    await db.lock(t, AUDIT_LOCK);
    const last = await lastRow(t);
    const fields = {
      seq: (last?.seq ?? 0) + 1,
      at: now(),
      actor,
      action,
      target: entry.target ?? null,
      details: JSON.parse(detailsText) as Record<string, unknown>,
      prevHash: last?.hash ?? GENESIS_HASH,
    };
    const hash = entryHash(fields);
    await t
      .insertInto('audit_log')
      .values({
        seq: fields.seq,
        at: fields.at,
        actor: fields.actor,
        action: fields.action,
        target: fields.target,
        details: detailsText,
        prev_hash: fields.prevHash,
        hash,
        signature: sign(entrySigningInput(fields.seq, hash)),
      })
      .execute();
    return { ...fields, hash };
  }

  /**
   * The common case without another transaction: the head vouches for exactly
   * the entry this one was chained onto, so this entry is the new head (and
   * nothing unchecked is vouched for). Otherwise the full, locked refresh.
   */
  function advanceHead(written: AuditEntry): boolean {
    const read = readHeadFile(headPath);
    if (read.kind !== 'ok' || read.head.count !== written.seq - 1 || read.head.hash !== written.prevHash || !headSignatureValid(read.head, publicKey)) return false;
    const head = writeHeadFile(headPath, { count: written.seq, hash: written.hash, at: now() }, sign);
    moveAnchor(head.count, head.hash);
    return true;
  }

  await refreshHead();

  return {
    async append(entry, t) {
      if (t) return appendIn(t, entry);
      const written = await db.tx((x) => appendIn(x, entry));
      let advanced = false;
      try {
        advanced = advanceHead(written);
      } catch (err) {
        logger.error('could not update the audit head', { err });
      }
      if (!advanced) await refreshHead();
      return written;
    },
    async list(listOpts = {}) {
      return (await selectRows(db.k, listOpts.afterSeq ?? 0, listOpts.limit ?? 100)).map(rowToEntry);
    },
    count: () => countRows(db.k),
    refreshHead,
  };
}
