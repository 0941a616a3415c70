/**
 * A local `signal-cli daemon --http` the gateway supervises: spawned on a
 * free loopback port in multi-account mode with `--receive-mode=manual` (it
 * pulls messages from Signal only while our event stream listens, so none
 * are taken off Signal's servers while the gateway is away), watched for its
 * exit (the run fails and the runner restarts it with backoff), and ended
 * with SIGTERM, then SIGKILL, when the run stops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { AppError } from '@autoclaw/shared';
import type { HttpClient } from '../http-client';

export interface SignalDaemon {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

const KILL_AFTER_MS = 3_000;
const DAEMON_ARGS = ['daemon', '--receive-mode=manual', '--no-receive-stdout'];

/**
 * Ends a daemon an earlier gateway process started and could not stop (it
 * was killed): only if that pid still runs our daemon command line (Linux's
 * /proc; a reused pid is left alone).
 */
export function killStaleDaemon(pid: number): boolean {
  let cmdline: string[];
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return false;
  }
  const ours = DAEMON_ARGS.every((arg) => cmdline.includes(arg)) && cmdline.some((arg) => arg.startsWith('--http=127.0.0.1:'));
  if (!ours) return false;
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts the daemon and resolves once `/api/v1/check` answers. `onExit` is
 * told when it ends by itself (not through `stop()`).
 */
export async function startSignalDaemon(opts: { cliPath: string; http: HttpClient; signal: AbortSignal; onExit(err: AppError): void; onSpawn(pid: number): void }): Promise<SignalDaemon> {
  const port = await freePort();
  const child = spawn(opts.cliPath, [DAEMON_ARGS[0]!, `--http=127.0.0.1:${port}`, ...DAEMON_ARGS.slice(1)], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (child.pid !== undefined) opts.onSpawn(child.pid);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-2_000);
  });
  let stopping = false;
  const failed = new Promise<AppError>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      resolve(
        err.code === 'ENOENT' || err.code === 'EACCES'
          ? new AppError('NOT_CONFIGURED', `signal-cli could not be started from "${opts.cliPath}" (${err.code}): install it or set signal.cliPath`)
          : new AppError('PROVIDER_UNAVAILABLE', `signal-cli could not be started: ${err.message}`),
      );
    });
    child.once('exit', (code, sig) => {
      const last = stderr.trim().split('\n').at(-1) ?? '';
      resolve(new AppError('PROVIDER_UNAVAILABLE', `signal-cli exited (${sig ?? `code ${code}`})${last ? `: ${last.slice(0, 200)}` : ''}`));
    });
  });
  void failed.then((err) => {
    if (!stopping) opts.onExit(err);
  });

  const stop = async () => {
    stopping = true;
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    await exited(child);
    clearTimeout(timer);
  };

  const url = `http://127.0.0.1:${port}`;
  // Up when its health endpoint answers; the runner's start limit bounds the wait.
  for (;;) {
    const early = await Promise.race([failed, new Promise<null>((resolve) => setTimeout(() => resolve(null), 200))]);
    if (early) {
      await stop();
      throw early;
    }
    if (opts.signal.aborted) {
      await stop();
      throw new AppError('PROVIDER_UNAVAILABLE', 'stopped while signal-cli was starting');
    }
    const up = await opts.http
      .fetch(`${url}/api/v1/check`, { signal: opts.signal })
      .then((res) => res.ok)
      .catch(() => false);
    if (up) break;
  }
  return { url, pid: child.pid ?? 0, stop };
}
