/**
 * `autoclaw audit verify` without the manager: opens the database read-only
 * (nothing is migrated or written — SQLite read-only, PostgreSQL with
 * read-only transactions) and checks it against the public key — given, or
 * derived from DIR/manager.key — the head file and the anchor kept with the
 * master key.
 */
import { existsSync } from 'node:fs';
import { AppError } from '@autoclaw/shared';
import type { AuditVerifyResult } from '@autoclaw/shared';
import { parsePublicKey } from '../../security';
import { openManagerDb } from '../db';
import type { DatabaseTarget } from '../db';
import type { SecretKeychain } from '../keychain';
import { masterKeySourceOf, readManagerPublicKey } from '../keys';
import { auditHeadPath, managerDbPath, managerKeyPath } from '../paths';
import { anchorStoreFor } from './anchor';
import { verifyAudit } from './verify';

export interface VerifyFilesOptions {
  /** Default: the SQLite file in the data directory. */
  database?: DatabaseTarget;
  publicKey?: string;
  /** The OS keychain, when the master key (and so the anchor) is kept there. */
  keychain?: () => SecretKeychain | null;
}

export async function verifyAuditFiles(dataDir: string, opts: VerifyFilesOptions = {}): Promise<AuditVerifyResult & { publicKey: string }> {
  const target: DatabaseTarget = opts.database ?? { engine: 'sqlite', path: managerDbPath(dataDir) };
  if (target.engine === 'sqlite' && !existsSync(target.path)) throw new AppError('NOT_FOUND', `no manager data in ${dataDir} (no ${target.path})`);
  let key = opts.publicKey;
  if (key === undefined) {
    if (!existsSync(managerKeyPath(dataDir))) throw new AppError('NOT_FOUND', `no manager key in ${dataDir}; give the manager's public key with --public-key`);
    key = readManagerPublicKey(dataDir);
  } else if (!parsePublicKey(key)) {
    throw new AppError('BAD_REQUEST', '--public-key must be a base64url raw Ed25519 public key (43 characters)');
  }
  const source = masterKeySourceOf(dataDir) ?? 'file';
  const anchor = anchorStoreFor(dataDir, source, source === 'keychain' ? (opts.keychain?.() ?? null) : null);
  const db = await openManagerDb(target, { readonly: true });
  try {
    return { ...(await verifyAudit(db, key, auditHeadPath(dataDir), anchor)), publicKey: key };
  } finally {
    await db.close();
  }
}
