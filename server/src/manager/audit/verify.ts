/**
 * Checks the audit log against the manager's public key, the signed head
 * and the anchor kept with the master key: an edited entry (hash), a
 * reordered or removed one (seq and chain), a truncated log (fewer entries
 * than the head vouches for), a chain recomputed without the key (entry and
 * head signatures), and a rollback — an older database restored together
 * with its head file (the two agree, so it is no truncation), which the
 * anchor, kept where the database cannot take it back, is ahead of. Read-only.
 */
import type { AuditVerifyResult } from '@autoclaw/shared';
import { tableNames } from '../db';
import type { ManagerDb } from '../db';
import type { AuditAnchorStore } from './anchor';
import { GENESIS_HASH } from './canonical';
import { headSignatureValid, readHeadFile } from './head-file';
import type { AuditHead } from './head-file';
import { countRows, rowProblem, selectRows } from './rows';

const PAGE = 1_000;

export async function verifyAudit(db: ManagerDb, publicKey: string, headFile: string, anchorStore?: AuditAnchorStore): Promise<AuditVerifyResult> {
  const result = (r: Omit<AuditVerifyResult, 'ok'>): AuditVerifyResult => ({ ok: r.problem === null, ...r });
  const read = readHeadFile(headFile);
  let signedCount: number | null = null;
  let signedHash: string | null = null;
  let headProblem: string | null = null;
  if (read.kind === 'missing') headProblem = `the signed head ${headFile} is missing`;
  else if (read.kind === 'unreadable') headProblem = read.reason;
  else if (!headSignatureValid(read.head, publicKey)) headProblem = "the signed head's signature does not verify with the manager's public key";
  else {
    signedCount = read.head.count;
    signedHash = read.head.hash;
  }

  let anchor: AuditHead | null = null;
  let anchorProblem: string | null = null;
  const anchorRead = anchorStore?.read() ?? { kind: 'missing' as const };
  if (anchorRead.kind === 'unreadable') anchorProblem = `the audit anchor is unreadable: ${anchorRead.reason}`;
  else if (anchorRead.kind === 'ok') {
    if (headSignatureValid(anchorRead.head, publicKey)) anchor = anchorRead.head;
    else anchorProblem = `the audit anchor in ${anchorStore?.where ?? 'its store'} is not signed by the manager's key`;
  }

  if (!(await tableNames(db)).includes('audit_log')) {
    const problem = headProblem ?? anchorProblem ?? (signedCount || anchor?.count ? 'the audit table is missing' : null);
    return result({ count: 0, signedCount, firstBadSeq: null, problem });
  }

  // Walk every entry: seq continuity, chain, hash, signature.
  let count = 0;
  let prev = GENESIS_HASH;
  let hashAtSigned: string | null = signedCount === 0 ? GENESIS_HASH : null;
  let hashAtAnchor: string | null = anchor?.count === 0 ? GENESIS_HASH : null;
  for (let after = 0; ; ) {
    const rows = await selectRows(db.k, after, PAGE);
    for (const row of rows) {
      const problem = rowProblem(row, count + 1, prev, publicKey);
      if (problem) return result({ count: await countRows(db.k), signedCount, firstBadSeq: count + 1, problem });
      count += 1;
      prev = row.hash;
      if (count === signedCount) hashAtSigned = row.hash;
      if (count === anchor?.count) hashAtAnchor = row.hash;
    }
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]?.seq ?? after;
  }

  if (headProblem) return result({ count, signedCount, firstBadSeq: null, problem: headProblem });
  if (signedCount !== null && count < signedCount) {
    const missing = signedCount - count;
    return result({
      count,
      signedCount,
      firstBadSeq: count + 1,
      problem: `the log was truncated: the signed head vouches for ${signedCount} entries, ${missing} ${missing === 1 ? 'is' : 'are'} missing from entry ${count + 1} on`,
    });
  }
  if (hashAtSigned !== signedHash) {
    return result({ count, signedCount, firstBadSeq: signedCount, problem: `entry ${signedCount ?? 0} does not match the signed head` });
  }
  if (anchor && count < anchor.count) {
    const missing = anchor.count - count;
    return result({
      count,
      signedCount,
      firstBadSeq: count + 1,
      problem: `the log was rolled back: the anchor kept with the master key (${anchorStore?.where ?? ''}) vouches for ${anchor.count} entries, the log has ${count} — an older database (and head) was restored; ${missing} ${missing === 1 ? 'entry is' : 'entries are'} gone`,
    });
  }
  if (anchor && hashAtAnchor !== anchor.hash) {
    return result({
      count,
      signedCount,
      firstBadSeq: anchor.count,
      problem: `entry ${anchor.count} does not match the anchor kept with the master key (a different or restored database)`,
    });
  }
  if (anchorProblem) return result({ count, signedCount, firstBadSeq: null, problem: anchorProblem });
  return result({ count, signedCount, firstBadSeq: null, problem: null });
}
