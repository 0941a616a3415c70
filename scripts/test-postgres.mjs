// A throw-away PostgreSQL cluster for the tests and benchmarks: `initdb`
// into a temporary directory, `pg_ctl start` on a free loopback port with
// its Unix socket in that directory, trust authentication on loopback only,
// and durability off (nothing here must survive a power cut). As root the
// server runs as the `postgres` user (initdb refuses root). `stop()` stops
// it (fast shutdown) and removes the directory: nothing is left running.
import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { findPostgresBin } from './test-prereqs.mjs';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The uid/gid to run the server as: ourselves, or `postgres` when we are root. */
function serverUser() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  const res = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (res.status !== 0 || gid.status !== 0) throw new Error('running as root, and there is no "postgres" user to run PostgreSQL as (initdb refuses root)');
  return { name: 'postgres', uid: Number(res.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function run(user, bin, program, args) {
  const cmd = user ? ['runuser', '-u', user.name, '--', join(bin, program), ...args] : [join(bin, program), ...args];
  const res = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  if (res.status !== 0) throw new Error(`${program} failed (${res.status}): ${(res.stderr || res.stdout || '').trim().slice(-2000)}`);
  return res.stdout;
}

/**
 * Starts a cluster; resolves to `{ url, port, dir, stop }` where `url` is
 * `postgres://postgres@127.0.0.1:PORT/postgres` (the superuser, trusted on loopback).
 */
export async function startTestPostgres({ log = () => {} } = {}) {
  const bin = findPostgresBin();
  if (!bin) throw new Error('PostgreSQL server programs not found (install Debian\'s "postgresql" or set AUTOCLAW_PG_BIN)');
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'autoclaw-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const superuser = user ? 'postgres' : userInfo().username;
  const started = Date.now();
  try {
    run(user, bin, 'initdb', ['-D', data, '-U', superuser, '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    const port = await freePort();
    const conf = [
      `port = ${port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      'max_connections = 400',
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      'shared_buffers = 64MB',
      'log_min_messages = warning',
    ].join('\n');
    const confPath = join(data, 'postgresql.auto.conf');
    writeFileSync(confPath, `${conf}\n`);
    if (user) chownSync(confPath, user.uid, user.gid);
    run(user, bin, 'pg_ctl', ['start', '-D', data, '-w', '-t', '60', '-l', join(dir, 'server.log')]);
    log(`test PostgreSQL on 127.0.0.1:${port} (${Date.now() - started} ms)`);
    let stopped = false;
    return {
      url: `postgres://${superuser}@127.0.0.1:${port}/postgres`,
      port,
      dir,
      stop() {
        if (stopped) return;
        stopped = true;
        try {
          run(user, bin, 'pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w', '-t', '60']);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    try {
      run(user, bin, 'pg_ctl', ['stop', '-D', data, '-m', 'immediate']);
    } catch {
      // not started
    }
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
