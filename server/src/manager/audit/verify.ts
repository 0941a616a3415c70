/**
 * Checks the audit log against the manager's public key and the signed head:
 * an edited entry (hash), a reordered or removed one (seq and chain), a
 * truncated log (fewer entries than the head vouches for), a chain
 * recomputed without the key (entry and head signatures). Read-only.
 */
import type { AuditVerifyResult } from '@autoclaw/shared';
import type { ManagerDb } from '../db';
import { GENESIS_HASH } from './canonical';
import { headSignatureValid, readHeadFile } from './head-file';
import { rowProblem, selectRows } from './rows';

const PAGE = 1_000;

function tableExists(db: ManagerDb): boolean {
  return Boolean(db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'").get());
}

export function verifyAudit(db: ManagerDb, publicKey: string, headFile: string): AuditVerifyResult {
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

  if (!tableExists(db)) {
    return result({ count: 0, signedCount, firstBadSeq: null, problem: headProblem ?? (signedCount ? 'the audit table is missing' : null) });
  }

  // Walk every entry: seq continuity, chain, hash, signature.
  let count = 0;
  let prev = GENESIS_HASH;
  let hashAtSigned: string | null = signedCount === 0 ? GENESIS_HASH : null;
  for (let after = 0; ; ) {
    const rows = selectRows(db, after, PAGE);
    for (const row of rows) {
      const problem = rowProblem(row, count + 1, prev, publicKey);
      if (problem) return result({ count: countRows(db), signedCount, firstBadSeq: count + 1, problem });
      count += 1;
      prev = row.hash;
      if (count === signedCount) hashAtSigned = row.hash;
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
  return result({ count, signedCount, firstBadSeq: null, problem: null });
}

function countRows(db: ManagerDb): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n;
}
