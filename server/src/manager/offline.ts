/**
 * The manager's accounts and audit log straight from its state (the data
 * directory, and the database — SQLite in it, or PostgreSQL), for CLI
 * commands run while no manager is running. Appends are signed with
 * DIR/manager.key like the manager's own, and the audit lock in the
 * database keeps them in order even if a manager starts meanwhile.
 */
import { createAccountService } from './accounts';
import type { AccountService } from './accounts';
import { anchorStoreFor, openAuditLog } from './audit';
import type { AuditLog } from './audit';
import { openManagerDb } from './db';
import type { DatabaseTarget, ManagerDb } from './db';
import type { Logger } from './gateway-parts';
import type { SecretKeychain } from './keychain';
import { loadOrCreateSigningKey, managerPublicKey, masterKeySourceOf, signWithManagerKey } from './keys';
import { auditHeadPath, managerDbPath, preparePrivateDataDir } from './paths';

export interface OfflineManager {
  db: ManagerDb;
  accounts: AccountService;
  audit: AuditLog;
  close(): Promise<void>;
}

export interface OfflineOptions {
  /** Default: DIR/manager.db. */
  database?: DatabaseTarget;
  now?: () => number;
  /** The OS keychain, asked only when the master key (and so the audit anchor) is kept there. */
  keychain?: () => SecretKeychain | null;
}

export async function openOfflineManager(dataDir: string, logger: Logger, opts: OfflineOptions = {}): Promise<OfflineManager> {
  const database = opts.database ?? { engine: 'sqlite', path: managerDbPath(dataDir) };
  for (const warning of preparePrivateDataDir(dataDir, database)) logger.warn(warning);
  const now = opts.now ?? Date.now;
  const key = loadOrCreateSigningKey(dataDir);
  const db = await openManagerDb(database);
  try {
    const source = masterKeySourceOf(dataDir) ?? 'file';
    const audit = await openAuditLog({
      db,
      headPath: auditHeadPath(dataDir),
      anchor: anchorStoreFor(dataDir, source, source === 'keychain' ? (opts.keychain?.() ?? null) : null),
      sign: (payload) => signWithManagerKey(key, payload),
      publicKey: managerPublicKey(key),
      now,
      logger,
    });
    // The sign-up mode only matters to sign-ups, which the CLI does not do.
    const accounts = await createAccountService({ db, audit, signup: 'closed', now, logger });
    return { db, accounts, audit, close: () => db.close() };
  } catch (err) {
    await db.close();
    throw err;
  }
}
