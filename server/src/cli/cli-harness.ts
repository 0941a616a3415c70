/**
 * Test support for the CLI's end-to-end tests (never imported by product
 * code): makes sure the bundle is current, runs `node server/bin/autoclaw.mjs`
 * as a child process, and runs gateways in the background.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = join(ROOT, 'server/bin/autoclaw.mjs');
const BUNDLE = join(ROOT, 'server/dist/autoclaw.mjs');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Rebuilds server/dist when a source file is newer than the bundle (`node scripts/build.mjs server`). */
export function ensureBundle(): void {
  const built = existsSync(BUNDLE) ? statSync(BUNDLE).mtimeMs : 0;
  if (built > Math.max(newestSource(join(ROOT, 'server/src')), newestSource(join(ROOT, 'shared/src')))) return;
  const res = spawnSync(process.execPath, ['scripts/build.mjs', 'server'], { cwd: ROOT, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`build failed: ${res.stderr}`);
}

/** A clean environment: nothing from the test runner's own provider settings leaks in. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...extra };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout as it arrived, chunk by chunk. */
  chunks: string[];
  ms: number;
}

export function runCli(
  args: string[],
  opts: {
    input?: string;
    env?: Record<string, string>;
    onStdout?: (text: string) => void;
    /** run `bin` itself (its sh lines), as node_modules/.bin/autoclaw is */
    bin?: string;
    /** A command still running after this long is killed and reported in stderr (default 60 s): a hang fails the test at its step. */
    timeoutMs?: number;
  } = {},
): Promise<CliResult> {
  const started = Date.now();
  const [command, argv] = opts.bin === undefined ? [process.execPath, [BIN, ...args]] : [opts.bin, args];
  const child = spawn(command, argv, { cwd: ROOT, env: cliEnv(opts.env), stdio: ['pipe', 'pipe', 'pipe'] });
  const chunks: string[] = [];
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    chunks.push(c);
    opts.onStdout?.(c);
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  // A process may exit without reading its stdin (EPIPE on the write is no failure of the test).
  child.stdin.on('error', () => {});
  child.stdin.end(opts.input ?? '');
  const limit = opts.timeoutMs ?? 60_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, limit);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut) stderr += `\n[test harness] autoclaw ${args.join(' ')} did not exit within ${limit} ms; killed\n`;
      resolve({ code, stdout: chunks.join(''), stderr, chunks, ms: Date.now() - started });
    });
  });
}

export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  /** stdout lines so far. */
  lines: string[];
  stderr: () => string;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const START_LIMIT_MS = 60_000;
const STOP_LIMIT_MS = 20_000;

export function startGatewayProcess(dataDir: string, env: Record<string, string>, extraArgs: string[] = []): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [BIN, 'gateway', '--data', dataDir, '--port', '0', ...extraArgs], {
    cwd: ROOT,
    env: cliEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let err = '';
  let buffered = '';
  let slow: NodeJS.Timeout | undefined;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ? null : code)));
  return new Promise((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      buffered += c;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (lines.length === 1) {
          clearTimeout(slow);
          resolve({
            child,
            url: line,
            lines,
            stderr: () => err,
            exited,
            async stop(signal = 'SIGTERM') {
              if (child.exitCode === null && child.signalCode === null) child.kill(signal);
              // A gateway that does not stop is killed, and the test's check of the exit code says so.
              const stuck = setTimeout(() => {
                err += `\n[test harness] the gateway did not exit within ${STOP_LIMIT_MS} ms of ${signal}; killed\n`;
                child.kill('SIGKILL');
              }, STOP_LIMIT_MS);
              return exited.finally(() => clearTimeout(stuck));
            },
          });
        }
      }
    });
    void exited.then((code) => reject(new Error(`gateway exited (${code}) before printing its URL: ${err}`)));
    slow = setTimeout(() => {
      reject(new Error(`the gateway printed no URL within ${START_LIMIT_MS} ms; killed. stderr: ${err}`));
      child.kill('SIGKILL');
    }, START_LIMIT_MS);
    void exited.finally(() => clearTimeout(slow));
  });
}

/** `users create` + `instances create` for owner@example.com on DIR (no manager running); the new instance's id. */
export async function ownerWithInstance(dir: string, env: Record<string, string>): Promise<string> {
  const user = await runCli(['users', 'create', '--data', dir, '--email', 'owner@example.com'], { input: 'correct horse battery\n', env });
  if (user.code !== 0) throw new Error(`users create failed: ${user.stderr}`);
  const made = await runCli(['instances', 'create', '--data', dir, '--owner', 'owner@example.com', '--json'], { env });
  if (made.code !== 0) throw new Error(`instances create failed: ${made.stderr}`);
  return (JSON.parse(made.stdout) as { id: string }).id;
}
