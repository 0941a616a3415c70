/** Test support for the accounts tests: a service on a real temp database (either engine) with a real audit log and a settable clock. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SignupMode } from '@autoclaw/shared';
import { fileAnchor, openAuditLog, verifyAudit } from '../audit';
import type { AuditLog } from '../audit';
import { openManagerDb } from '../db';
import type { ManagerDb } from '../db';
import { createTestDatabase } from '../db/test-db';
import { silentLogger } from '../gateway-parts';
import { loadOrCreateSigningKey, managerPublicKey, signWithManagerKey } from '../keys';
import { createAccountService } from './service';
import type { AccountService, AccountServiceOptions } from './service';
import type { RevokeReason } from './sessions';

export interface AccountsHarness {
  db: ManagerDb;
  audit: AuditLog;
  accounts: AccountService;
  clock: { now: number };
  revoked: Array<{ ids: string[]; reason: RevokeReason }>;
  auditOk(): Promise<boolean>;
  close(): Promise<void>;
}

export async function accountsHarness(signup: SignupMode, extra: Partial<AccountServiceOptions> = {}): Promise<AccountsHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'autoclaw-acct-'));
  const database = await createTestDatabase(dir);
  const db = await openManagerDb(database.target);
  const key = loadOrCreateSigningKey(dir);
  const clock = { now: 1_700_000_000_000 };
  const now = () => clock.now;
  const headPath = join(dir, 'audit-head.json');
  const anchor = fileAnchor(dir);
  const audit = await openAuditLog({ db, headPath, anchor, sign: (p) => signWithManagerKey(key, p), publicKey: managerPublicKey(key), now, logger: silentLogger });
  const revoked: AccountsHarness['revoked'] = [];
  const accounts = await createAccountService({
    db,
    audit,
    signup,
    now,
    logger: silentLogger,
    onSessionsRevoked: (ids, reason) => void revoked.push({ ids, reason }),
    ...extra,
  });
  return {
    db,
    audit,
    accounts,
    clock,
    revoked,
    auditOk: async () => (await verifyAudit(db, managerPublicKey(key), headPath, anchor)).ok,
    async close() {
      await db.close();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
