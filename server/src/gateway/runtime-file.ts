/**
 * DIR/runtime.json: how the CLI finds the gateway running on a data
 * directory. Written atomically after listen, removed on graceful stop; a
 * file whose pid is dead (a crash, kill -9) is stale and ignored.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const RUNTIME_FILE = 'runtime.json';

export interface RuntimeInfo {
  pid: number;
  port: number;
  url: string;
  startedAt: number;
}

export function runtimeFilePath(dataDir: string): string {
  return join(dataDir, RUNTIME_FILE);
}

export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseRuntime(text: string): RuntimeInfo | null {
  try {
    const v = JSON.parse(text) as Partial<RuntimeInfo>;
    if (typeof v.pid !== 'number' || typeof v.port !== 'number' || typeof v.url !== 'string' || typeof v.startedAt !== 'number') {
      return null;
    }
    return { pid: v.pid, port: v.port, url: v.url, startedAt: v.startedAt };
  } catch {
    return null;
  }
}

/** The runtime file as written, or null when missing or unreadable (liveness not checked). */
export function readRuntimeFile(dataDir: string): RuntimeInfo | null {
  let text: string;
  try {
    text = readFileSync(runtimeFilePath(dataDir), 'utf8');
  } catch {
    return null;
  }
  return parseRuntime(text);
}

/** The gateway running on `dataDir`, or null when there is none (stale files are ignored). */
export function findRunningGateway(dataDir: string): RuntimeInfo | null {
  const info = readRuntimeFile(dataDir);
  return info && isPidAlive(info.pid) ? info : null;
}

export function writeRuntimeFile(dataDir: string, info: RuntimeInfo): void {
  const path = runtimeFilePath(dataDir);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** Removes the runtime file if it is still ours. */
export function removeRuntimeFile(dataDir: string, pid: number = process.pid): void {
  const info = readRuntimeFile(dataDir);
  if (info && info.pid !== pid) return;
  rmSync(runtimeFilePath(dataDir), { force: true });
}
