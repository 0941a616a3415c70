/** The store part's door: open a store; everything else is its types. */
export { openStore, type OpenStoreOptions } from './sqlite-store';
export { INTERRUPTED_TOOL_RESULT } from './recovery';
export type * from './types';
export { createGroupCommit, type GroupCommit } from './group-commit';
export { preparePrivateDbFile } from './private-db-file';
export { readSchemaVersion, SCHEMA_VERSION } from './schema-version';
