// The manager on its two engines, with real processes from node_modules/.bin
// and a throw-away PostgreSQL cluster (scripts/test-postgres.mjs):
// sign-in latency on SQLite and on PostgreSQL measured side by side
// (interleaved, so both see the same machine load), and the failover of
// three replicas on PostgreSQL — the leader killed with -9 until another
// replica leads and has settled every instance (it supervises).
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { startTestPostgres } from '../scripts/test-postgres.mjs';
import { AUTOCLAW, median, percentile, round, tempDir, writeFigures } from './support';

const figures: Record<string, number> = {};
const PASSWORD = 'correct horse battery staple';
const EMAIL = 'bench@example.com';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Manager {
  child: ChildProcess;
  url: string;
  /** Log lines (JSON) with the time they arrived (performance.now()). */
  lines: Array<{ at: number; line: Record<string, unknown> }>;
  exited: Promise<unknown>;
}

function startManager(dir: string, env: Record<string, string>): Promise<Manager> {
  const child = spawn(AUTOCLAW, ['manager', '--data', dir, '--port', '0'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Manager['lines'] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => {
    if (l.startsWith('{')) lines.push({ at: performance.now(), line: JSON.parse(l) as Record<string, unknown> });
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (url) => resolve({ child, url: url.trim(), lines, exited }));
    child.once('exit', (code) => reject(new Error(`manager exited ${code}`)));
  });
}

async function post<T>(url: string, path: string, input: unknown): Promise<T> {
  const res = await fetch(`${url}/trpc/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) });
  const body = (await res.json()) as { result?: { data: T }; error?: unknown };
  if (!body.result) throw new Error(`${path}: ${JSON.stringify(body.error)}`);
  return body.result.data;
}

function createUser(dir: string, env: Record<string, string>): void {
  const res = spawnSync(AUTOCLAW, ['users', 'create', '--data', dir, '--email', EMAIL], { input: `${PASSWORD}\n`, encoding: 'utf8', env: { ...process.env, ...env } });
  if (res.status !== 0) throw new Error(`users create: ${res.stderr}`);
}

async function stop(m: Manager): Promise<void> {
  if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGTERM');
  await m.exited;
}

function killGateways(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

const pg = await startTestPostgres();
const gateways: number[] = [];
const dirs: Array<{ remove(): void }> = [];
const managers: Manager[] = [];
try {
  /* sign-in, SQLite and PostgreSQL side by side (no instances: provisioning is not what is timed) */
  const base = { AUTOCLAW_MASTER_KEY_STORE: 'file' };
  const sqliteDir = tempDir('autoclaw-bench-signin-sqlite-');
  const pgDir = tempDir('autoclaw-bench-signin-pg-');
  dirs.push(sqliteDir, pgDir);
  const pgDb = `${pg.url.replace(/\/postgres$/, '')}/bench_signin`;
  {
    const { default: pgLib } = await import('pg');
    const admin = new pgLib.Client({ connectionString: pg.url });
    await admin.connect();
    await admin.query('CREATE DATABASE bench_signin');
    await admin.query('CREATE DATABASE bench_failover');
    await admin.end();
  }
  const sqliteEnv = base;
  const pgEnv = { ...base, AUTOCLAW_DATABASE_URL: pgDb };
  createUser(sqliteDir.path, sqliteEnv);
  createUser(pgDir.path, pgEnv);
  const onSqlite = await startManager(sqliteDir.path, sqliteEnv);
  const onPg = await startManager(pgDir.path, pgEnv);
  managers.push(onSqlite, onPg);
  const samples: Record<'sqlite' | 'pg', number[]> = { sqlite: [], pg: [] };
  const signIn = async (m: Manager) => {
    const t0 = performance.now();
    await post(m.url, 'auth.signIn', { email: EMAIL, password: PASSWORD });
    return performance.now() - t0;
  };
  // Warm both (first scrypt, first queries), then interleave.
  for (let i = 0; i < 5; i++) {
    await signIn(onSqlite);
    await signIn(onPg);
  }
  // 400 each: the 99th percentile is then the 4th slowest, not a single outlier.
  for (let i = 0; i < 400; i++) {
    if (i % 2 === 0) {
      samples.sqlite.push(await signIn(onSqlite));
      samples.pg.push(await signIn(onPg));
    } else {
      samples.pg.push(await signIn(onPg));
      samples.sqlite.push(await signIn(onSqlite));
    }
  }
  figures['manager.signin_p50_ms'] = round(median(samples.sqlite), 1);
  figures['manager.signin_p99_ms'] = round(percentile(samples.sqlite, 99), 1);
  figures['manager.signin_pg_p50_ms'] = round(median(samples.pg), 1);
  figures['manager.signin_pg_p99_ms'] = round(percentile(samples.pg, 99), 1);
  await stop(onSqlite);
  await stop(onPg);

  /* failover: three replicas on PostgreSQL, one instance; the leader killed with -9 */
  const shared = tempDir('autoclaw-bench-replicas-');
  dirs.push(shared);
  const replicaEnv = { ...base, AUTOCLAW_DATABASE_URL: `${pg.url.replace(/\/postgres$/, '')}/bench_failover` };
  const replicas = await Promise.all([0, 1, 2].map(() => startManager(shared.path, replicaEnv)));
  managers.push(...replicas);
  createUser(shared.path, replicaEnv);
  const { default: pgLib } = await import('pg');
  const db = new pgLib.Client({ connectionString: replicaEnv.AUTOCLAW_DATABASE_URL });
  await db.connect();
  const leaderPid = async (): Promise<number | null> => {
    const row = (await db.query("SELECT holder FROM leases WHERE name = 'leader' AND expires_at > $1", [Date.now()])).rows[0] as { holder?: string } | undefined;
    return row?.holder ? Number(row.holder.split('/')[1]) : null;
  };
  for (;;) {
    const row = (await db.query("SELECT pid FROM instances WHERE state = 'running'")).rows[0] as { pid?: number } | undefined;
    if (row?.pid) {
      gateways.push(Number(row.pid));
      break;
    }
    await sleep(100);
  }
  const failovers: number[] = [];
  for (let round_ = 0; round_ < 3; round_++) {
    let pid: number | null = null;
    while ((pid = await leaderPid()) === null) await sleep(50);
    const leader = replicas.find((r) => r.child.pid === pid);
    if (!leader) throw new Error(`leader pid ${pid} is not a replica`);
    const others = replicas.filter((r) => r !== leader && r.child.exitCode === null && r.child.signalCode === null);
    const seen = new Map(others.map((r) => [r, r.lines.length]));
    const killedAt = performance.now();
    leader.child.kill('SIGKILL');
    // Supervising = another replica took the lease and settled every instance.
    let took: number | null = null;
    while (took === null) {
      for (const r of others) {
        const recovered = r.lines.slice(seen.get(r)).find((l) => l.line['msg'] === 'instances recovered');
        if (recovered) took = recovered.at;
      }
      if (performance.now() - killedAt > 60_000) throw new Error('no new leader within 60 s');
      await sleep(10);
    }
    failovers.push(took - killedAt);
    // Back to three replicas for the next round.
    const fresh = await startManager(shared.path, replicaEnv);
    replicas.splice(replicas.indexOf(leader), 1, fresh);
    managers.push(fresh);
  }
  figures['manager.failover_ms'] = round(median(failovers), 1);
  figures['manager.failover_ms_max'] = round(Math.max(...failovers), 1);
  for (const row of (await db.query('SELECT pid FROM instances')).rows as Array<{ pid: number | null }>) if (row.pid) gateways.push(Number(row.pid));
  await db.end();
} finally {
  await Promise.all(managers.map(stop));
  killGateways(gateways);
  pg.stop();
  for (const d of dirs) d.remove();
}
writeFigures(figures);
