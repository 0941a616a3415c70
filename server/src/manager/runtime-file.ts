/**
 * DIR/manager-runtime.json: how the CLI finds the manager running on a data
 * directory (pid, port, URL, and the TLS certificate it pins when HTTPS).
 * Written atomically after listen, removed on graceful stop; a file whose
 * pid is dead is stale and ignored. Replicas sharing a data directory (on
 * PostgreSQL) each write their own DIR/manager-runtime.<pid>.json, and the
 * CLI takes any live one.
 */
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

const REPLICA_FILE = /^manager-runtime\.(\d+)\.json$/;
const replicaPath = (dataDir: string, pid: number) => join(dataDir, `manager-runtime.${pid}.json`);

function readFrom(path: string): ManagerRuntimeInfo | null {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<ManagerRuntimeInfo>;
    if (typeof v.pid !== 'number' || typeof v.port !== 'number' || typeof v.url !== 'string' || typeof v.startedAt !== 'number') return null;
    return { pid: v.pid, port: v.port, url: v.url, startedAt: v.startedAt, tlsCertPath: typeof v.tlsCertPath === 'string' ? v.tlsCertPath : null };
  } catch {
    return null;
  }
}

/** The single manager's runtime file (SQLite), as written; null when none. */
export function readManagerRuntime(dataDir: string): ManagerRuntimeInfo | null {
  return readFrom(managerRuntimePath(dataDir));
}

function replicaFiles(dataDir: string): string[] {
  try {
    return readdirSync(dataDir).filter((name) => REPLICA_FILE.test(name));
  } catch {
    return [];
  }
}

/** The runtime file of a live manager process on `dataDir` (the single one, else any replica), or null (health not checked). */
export function findRunningManager(dataDir: string): ManagerRuntimeInfo | null {
  const single = readManagerRuntime(dataDir);
  if (single && isPidAlive(single.pid)) return single;
  for (const name of replicaFiles(dataDir)) {
    const info = readFrom(join(dataDir, name));
    if (info && isPidAlive(info.pid)) return info;
  }
  return null;
}

export function writeManagerRuntime(dataDir: string, info: ManagerRuntimeInfo, opts: { replica?: boolean } = {}): void {
  const path = opts.replica ? replicaPath(dataDir, info.pid) : managerRuntimePath(dataDir);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

export function removeManagerRuntime(dataDir: string, pid: number = process.pid): void {
  rmSync(replicaPath(dataDir, pid), { force: true });
  const info = readManagerRuntime(dataDir);
  if (info && info.pid !== pid) return;
  rmSync(managerRuntimePath(dataDir), { force: true });
}
