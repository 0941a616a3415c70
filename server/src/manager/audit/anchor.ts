/**
 * The audit anchor: a second copy of the signed head, kept where the master
 * key is — an entry beside it in the OS keychain, or a file beside the
 * master key file — and not beside the database. Restoring an older
 * database together with its `audit-head.json` (a backup of the manager's
 * state) leaves the anchor ahead of the log: `audit verify` reports the
 * rollback. The anchor only ever moves forward.
 */
import { join } from 'node:path';
import { writeSecretFile } from '../../security';
import type { SecretKeychain } from '../keychain';
import type { AuditHead, HeadRead } from './head-file';
import { parseHead, readHeadFile } from './head-file';

export const AUDIT_ANCHOR_FILE = 'audit-anchor.json';
const KEYCHAIN_SERVICE = 'autoclaw-manager';

export interface AuditAnchorStore {
  /** Where it is kept, for messages. */
  readonly where: string;
  read(): HeadRead;
  write(head: AuditHead): void;
}

/** The anchor in a 0600 file beside the master key file (DIR/audit-anchor.json). */
export function fileAnchor(dataDir: string): AuditAnchorStore {
  const path = join(dataDir, AUDIT_ANCHOR_FILE);
  return {
    where: path,
    read: () => readHeadFile(path),
    write(head) {
      writeSecretFile(path, `${JSON.stringify(head)}\n`);
    },
  };
}

/** The anchor as an entry beside the master key's in the OS keychain. */
export function keychainAnchor(keychain: SecretKeychain, dataDir: string): AuditAnchorStore {
  const account = `audit-anchor:${dataDir}`;
  const where = `the ${keychain.name} (${KEYCHAIN_SERVICE} / ${account})`;
  return {
    where,
    read() {
      let text: string | null;
      try {
        text = keychain.get(KEYCHAIN_SERVICE, account);
      } catch (err) {
        return { kind: 'unreadable', reason: `cannot read ${where}: ${err instanceof Error ? err.message.split('\n')[0] : 'error'}` };
      }
      return text === null ? { kind: 'missing' } : parseHead(text, where);
    },
    write(head) {
      keychain.set(KEYCHAIN_SERVICE, account, JSON.stringify(head));
    },
  };
}

/** Where the anchor goes: with the master key (the keychain when it is kept there, else a file beside it). */
export function anchorStoreFor(dataDir: string, masterKeySource: 'keychain' | 'file' | 'kubernetes', keychain: SecretKeychain | null): AuditAnchorStore {
  return masterKeySource === 'keychain' && keychain ? keychainAnchor(keychain, dataDir) : fileAnchor(dataDir);
}
