/**
 * The gateway's door. Light on purpose: config parsing and the runtime file
 * are cheap; the server itself (fastify, ws, tRPC, store, agent) loads only
 * when `startGateway` is called, so CLI commands that merely talk to a
 * running gateway never pay for it.
 */
import type { GatewayConfig } from './config';
import type { GatewayOptions, RunningGateway } from './server';

export { parseGatewayConfig, parseEnv, parseDataDir, parseSkillsPubkey, UsageError, DEFAULT_PORT, DEFAULT_HOST, envNameOf, metricsTokenOf } from './config';
export type { GatewayConfig, EnvSettings } from './config';
export { parseFlags } from './flags';
export { findRunningGateway, readRuntimeFile, runtimeFilePath, isPidAlive, RUNTIME_FILE } from './runtime-file';
export type { RuntimeInfo } from './runtime-file';
export type { GatewayOptions, RunningGateway } from './server';
export type { AppRouter } from './router-type';
export { WS_PATH } from './ws-path';
export { databasePath, dataKeyPath, skillsTmpPath, workspacePath, DATABASE_FILE, DATA_KEY_FILE } from './data-dir';

export async function startGateway(config: GatewayConfig, options?: GatewayOptions): Promise<RunningGateway> {
  const server = await import('./server');
  return server.startGateway(config, options);
}
