// Shared bench helpers: process-tree memory, percentiles, spawning the real
// CLI from node_modules/.bin, and writing figures.
import { readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = process.cwd();
export const AUTOCLAW = join(ROOT, 'node_modules', '.bin', 'autoclaw');

/** RSS of a process and all its descendants, in MiB (Linux /proc). */
export function treeRssMb(pid: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // the process ended while we looked
    }
  }
  let kb = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const m = /VmRSS:\s+(\d+) kB/.exec(status);
      if (m) kb += Number(m[1]);
    } catch {
      continue;
    }
    stack.push(...(children.get(p) ?? []));
  }
  return kb / 1024;
}

/** RSS of one process alone, in MiB. */
export function processRssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] ?? NaN;
}

export const median = (values: number[]): number => percentile(values, 50);
export const round = (n: number, digits = 2): number => Number(n.toFixed(digits));

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function writeFigures(figures: Record<string, number>): void {
  const out = process.argv[2];
  if (!out) throw new Error('usage: node bench.mjs OUT.json');
  writeFileSync(out, JSON.stringify(figures, null, 2));
  for (const [k, v] of Object.entries(figures)) console.log(`${k.padEnd(40)} ${v}`);
}

export interface StartedGateway {
  child: ChildProcess;
  url: string;
  spawnedAt: number;
  stop(): Promise<void>;
}

/** Spawns `autoclaw gateway` from node_modules/.bin and waits for its URL line. */
export async function spawnGateway(dataDir: string, env: Record<string, string>): Promise<StartedGateway> {
  const spawnedAt = performance.now();
  const child = spawn(AUTOCLAW, ['gateway', '--data', dataDir, '--port', '0'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^(http:\/\/127\.0\.0\.1:\d+)\s*$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited ${code}: ${stderr}`)));
  });
  return {
    child,
    url,
    spawnedAt,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** One call of the manager's tRPC HTTP API (a query with GET, a mutation with POST). */
export async function managerCall<T>(url: string, method: 'GET' | 'POST', path: string, input?: unknown, token?: string): Promise<T> {
  const qs = method === 'GET' && input !== undefined ? `?input=${encodeURIComponent(JSON.stringify(input))}` : '';
  const res = await fetch(`${url}/trpc/${path}${qs}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(method === 'POST' ? { body: JSON.stringify(input ?? null) } : {}),
  });
  const body = (await res.json()) as { result?: { data: T }; error?: unknown };
  if (!body.result) throw new Error(`${path}: ${JSON.stringify(body.error)}`);
  return body.result.data;
}
