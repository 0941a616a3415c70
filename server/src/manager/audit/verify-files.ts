/**
 * `autoclaw audit verify` without the manager: opens the database read-only
 * (nothing is migrated or written) and checks it against the public key —
 * given, or derived from DIR/manager.key.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { AppError } from '@autoclaw/shared';
import type { AuditVerifyResult } from '@autoclaw/shared';
import { parsePublicKey } from '../../security';
import type { ManagerDb } from '../db';
import { readManagerPublicKey } from '../keys';
import { auditHeadPath, managerDbPath, managerKeyPath } from '../paths';
import { verifyAudit } from './verify';

export function verifyAuditFiles(dataDir: string, publicKey?: string): AuditVerifyResult & { publicKey: string } {
  const dbPath = managerDbPath(dataDir);
  if (!existsSync(dbPath)) throw new AppError('NOT_FOUND', `no manager data in ${dataDir} (no ${dbPath})`);
  let key = publicKey;
  if (key === undefined) {
    if (!existsSync(managerKeyPath(dataDir))) throw new AppError('NOT_FOUND', `no manager key in ${dataDir}; give the manager's public key with --public-key`);
    key = readManagerPublicKey(dataDir);
  } else if (!parsePublicKey(key)) {
    throw new AppError('BAD_REQUEST', '--public-key must be a base64url raw Ed25519 public key (43 characters)');
  }
  const db: ManagerDb = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return { ...verifyAudit(db, key, auditHeadPath(dataDir)), publicKey: key };
  } finally {
    db.close();
  }
}
