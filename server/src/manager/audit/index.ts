/** The audit part's door. */
export { openAuditLog, AUDIT_LOCK } from './log';
export type { AuditAppend, AuditLog, AuditLogOptions } from './log';
export { verifyAudit } from './verify';
export { readHeadFile } from './head-file';
export type { AuditHead } from './head-file';
export { anchorStoreFor, fileAnchor, keychainAnchor, AUDIT_ANCHOR_FILE } from './anchor';
export type { AuditAnchorStore } from './anchor';
export { canonicalJson, entryHash, GENESIS_HASH } from './canonical';
export { verifyAuditFiles } from './verify-files';
export type { VerifyFilesOptions } from './verify-files';
