/** The audit part's door. */
export { openAuditLog } from './log';
export type { AuditAppend, AuditLog, AuditLogOptions } from './log';
export { verifyAudit } from './verify';
export { readHeadFile } from './head-file';
export type { AuditHead } from './head-file';
export { canonicalJson, entryHash, GENESIS_HASH } from './canonical';
export { verifyAuditFiles } from './verify-files';
