/**
 * The manager's accounts and audit log straight from its data directory, for
 * CLI commands run while no manager is running. Appends are signed with
 * DIR/manager.key like the manager's own, and the audit log's write lock
 * keeps them in order even if a manager starts meanwhile.
 */
import { createAccountService } from './accounts';
import type { AccountService } from './accounts';
import { openAuditLog } from './audit';
import type { AuditLog } from './audit';
import { openManagerDb } from './db';
import type { ManagerDb } from './db';
import type { Logger } from './gateway-parts';
import { loadOrCreateSigningKey, managerPublicKey, signWithManagerKey } from './keys';
import { auditHeadPath, managerDbPath, preparePrivateDataDir } from './paths';

export interface OfflineManager {
  db: ManagerDb;
  accounts: AccountService;
  audit: AuditLog;
  close(): void;
}

export function openOfflineManager(dataDir: string, logger: Logger, now: () => number = Date.now): OfflineManager {
  for (const warning of preparePrivateDataDir(dataDir)) logger.warn(warning);
  const key = loadOrCreateSigningKey(dataDir);
  const db = openManagerDb(managerDbPath(dataDir));
  try {
    const audit = openAuditLog({
      db,
      headPath: auditHeadPath(dataDir),
      sign: (payload) => signWithManagerKey(key, payload),
      publicKey: managerPublicKey(key),
      now,
      logger,
    });
    // The sign-up mode only matters to sign-ups, which the CLI does not do.
    const accounts = createAccountService({ db, audit, signup: 'closed', now, logger });
    return { db, accounts, audit, close: () => db.close() };
  } catch (err) {
    db.close();
    throw err;
  }
}
