/**
 * What the local driver learns about a gateway process: alive or not
 * (kill(pid, 0), and not a zombie), whether the pid is still OUR gateway
 * (its command line names the instance — pids are reused), and its resident
 * memory. /proc on Linux; elsewhere only liveness is known.
 */
import { readFileSync } from 'node:fs';

function readProc(pid: number, file: string): string | null {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return null;
  }
}

export function hasProc(): boolean {
  return readProc(process.pid, 'stat') !== null;
}

export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A zombie (exited, not yet reaped) answers kill(0) but is dead.
  const stat = readProc(pid, 'stat');
  if (stat === null) return !hasProc();
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/** The process's arguments, or null when unknown (no /proc, or gone). */
export function commandLineOf(pid: number): string[] | null {
  const raw = readProc(pid, 'cmdline');
  if (raw === null) return null;
  return raw.split('\0').filter((a) => a.length > 0);
}

/** True when `pid` runs the gateway of `instanceId` (or when /proc cannot tell). */
export function isGatewayOf(pid: number, instanceId: string): boolean {
  const args = commandLineOf(pid);
  if (args === null) return !hasProc() && isProcessAlive(pid);
  const at = args.indexOf('--instance-id');
  return at >= 0 && args[at + 1] === instanceId && args.includes('gateway');
}

/** Resident memory in MiB, or undefined when unknown. */
export function rssMbOf(pid: number): number | undefined {
  const status = readProc(pid, 'status');
  const match = status ? /^VmRSS:\s+(\d+)\s+kB/m.exec(status) : null;
  return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : undefined;
}
