/**
 * DIR/manager-runtime.json: how the CLI finds the manager running on a data
 * directory (pid, port, URL, and the TLS certificate it pins when HTTPS).
 * Written atomically after listen, removed on graceful stop; a file whose
 * pid is dead is stale and ignored.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isPidAlive } from '../gateway';
import { managerRuntimePath } from './paths';

export interface ManagerRuntimeInfo {
  pid: number;
  port: number;
  url: string;
  startedAt: number;
  /** Absolute path of the PEM certificate served, when HTTPS. */
  tlsCertPath: string | null;
}

export function readManagerRuntime(dataDir: string): ManagerRuntimeInfo | null {
  try {
    const v = JSON.parse(readFileSync(managerRuntimePath(dataDir), 'utf8')) as Partial<ManagerRuntimeInfo>;
    if (typeof v.pid !== 'number' || typeof v.port !== 'number' || typeof v.url !== 'string' || typeof v.startedAt !== 'number') return null;
    return { pid: v.pid, port: v.port, url: v.url, startedAt: v.startedAt, tlsCertPath: typeof v.tlsCertPath === 'string' ? v.tlsCertPath : null };
  } catch {
    return null;
  }
}

/** The runtime file of a live manager process on `dataDir`, or null (health not checked). */
export function findRunningManager(dataDir: string): ManagerRuntimeInfo | null {
  const info = readManagerRuntime(dataDir);
  return info && isPidAlive(info.pid) ? info : null;
}

export function writeManagerRuntime(dataDir: string, info: ManagerRuntimeInfo): void {
  const path = managerRuntimePath(dataDir);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

export function removeManagerRuntime(dataDir: string, pid: number = process.pid): void {
  const info = readManagerRuntime(dataDir);
  if (info && info.pid !== pid) return;
  rmSync(managerRuntimePath(dataDir), { force: true });
}
