/**
 * The files the local driver keeps for an instance, inside DIR/instances/<id>
 * (the gateway's own data directory): the gateway's log (rotated by size,
 * copy-then-truncate, since the detached gateway keeps writing to it) and a
 * small record of the process it started (pid, port), so a restarted manager
 * finds processes that never wrote their runtime file.
 */
import { closeSync, copyFileSync, openSync, readFileSync, readSync, renameSync, statSync, truncateSync, writeFileSync, fstatSync } from 'node:fs';
import { join } from 'node:path';

export const LOG_FILE = 'gateway.log';
export const RECORD_FILE = 'local-driver.json';

export const instanceDir = (dataDir: string, instanceId: string): string => join(dataDir, 'instances', instanceId);
export const logPath = (dir: string): string => join(dir, LOG_FILE);
const recordPath = (dir: string): string => join(dir, RECORD_FILE);

export interface ProcessRecord {
  pid: number;
  port: number;
  startedAt: number;
  /** The warm standby (its id) that became this gateway; its command line names the standby, not the instance. */
  standby?: string;
}

export function readRecord(dir: string): ProcessRecord | null {
  try {
    const v = JSON.parse(readFileSync(recordPath(dir), 'utf8')) as Partial<ProcessRecord>;
    if (typeof v.pid === 'number' && typeof v.port === 'number' && typeof v.startedAt === 'number') {
      return { pid: v.pid, port: v.port, startedAt: v.startedAt, ...(typeof v.standby === 'string' ? { standby: v.standby } : {}) };
    }
  } catch {
    // missing or unreadable
  }
  return null;
}

export function writeRecord(dir: string, record: ProcessRecord): void {
  const path = recordPath(dir);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** The last `count` lines of the log (reads at most its last 64 KiB). */
export function lastLogLines(dir: string, count = 20): string[] {
  let fd: number;
  try {
    fd = openSync(logPath(dir), 'r');
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, size - length);
    const lines = buf.toString('utf8').split('\n').filter((l) => l.trim().length > 0);
    if (length < size) lines.shift(); // the first line may be cut
    return lines.slice(-count).map((l) => (l.length > 1_000 ? `${l.slice(0, 1_000)}…` : l));
  } finally {
    closeSync(fd);
  }
}

/** Keeps the log under `maxBytes`: the current one becomes gateway.log.1, the live file is truncated. */
export function rotateLog(dir: string, maxBytes: number): boolean {
  const path = logPath(dir);
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return false;
  }
  if (size <= maxBytes) return false;
  // The gateway writes with O_APPEND, so after the truncate its next line lands at the start.
  copyFileSync(path, `${path}.1`);
  truncateSync(path, 0);
  return true;
}
