/**
 * What the manager reuses of the gateway's HTTP plumbing: the logger, the
 * one error formatter (AppError → wire), the Origin allowlist, the CSP and
 * the static renderer files. The gateway's index.ts does not export these
 * yet, so this file is the ONE place that reaches inside it; once the index
 * exports them, import from '../gateway' here and drop the disables.
 */
/* eslint-disable no-restricted-imports -- see above: a single, temporary door into gateway internals */
export { createLogger, silentLogger } from '../gateway/logger';
export type { Logger, LogFields } from '../gateway/logger';
export { formatError } from '../gateway/trpc';
export type { AppErrorData } from '../gateway/trpc';
export { appCodeOfStatus, HTTP_STATUS_OF, INTERNAL_MESSAGE } from '../gateway/error-mapping';
export type { OriginPolicy } from '../gateway/origin-policy';
export { CONTENT_SECURITY_POLICY } from '../gateway/app';
export { defaultRendererDir, registerStaticFiles } from '../gateway/static-files';
export { LEAN_FASTIFY_OPTIONS } from '../gateway/fastify-options';
export { closeAllSockets, wsHandlerDefaults } from '../gateway/ws-handler-defaults';
export { isLoopbackHost, normalizeOrigin, parseAllowHost } from '../gateway/config';
export { VERSION } from '../gateway/version';
/* eslint-enable no-restricted-imports */
