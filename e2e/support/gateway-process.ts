/**
 * Runs the real `autoclaw` CLI as a child process, exactly as a user would:
 * `autoclaw gateway --data DIR --port 0` (URL read from its first stdout line)
 * and `autoclaw pair|history --data DIR`.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import type { Message } from '@autoclaw/shared';

const execFileAsync = promisify(execFile);
export const REPO_ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(REPO_ROOT, 'server/bin/autoclaw.mjs');

/** Provider settings the parent test process may have; every test decides its own. */
const PROVIDER_ENV = [
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_BASE_URL',
  'OPENAI_API_KEY',
  'OPENAI_BASE_URL',
  'AUTOCLAW_MODEL',
  'AUTOCLAW_OPENAI_COMPATIBLE_URL',
  'AUTOCLAW_OPENAI_COMPATIBLE_API_KEY',
];

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of PROVIDER_ENV) delete env[name];
  return { ...env, ...extra };
}

export function makeDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'autoclaw-e2e-'));
}

export function removeDataDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface GatewayProcess {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Everything the gateway wrote so far (for failure messages). */
  output(): string;
  /** SIGTERM and wait for the exit (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

export interface StartGatewayOptions {
  dataDir: string;
  env?: Record<string, string>;
  allowOrigins?: string[];
  /** More `autoclaw gateway` flags (e.g. --skills DIR --skills-pubkey KEY). */
  args?: string[];
}

export async function startGateway(options: StartGatewayOptions): Promise<GatewayProcess> {
  const args = [CLI, 'gateway', '--data', options.dataDir, '--port', '0'];
  for (const origin of options.allowOrigins ?? []) args.push('--allow-origin', origin);
  args.push(...(options.args ?? []));
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: childEnv(options.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString('utf8');
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));

  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not print its URL within 20 s:\n${log}`)), 20_000);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      log += `${line}\n`;
      const match = /^(https?:\/\/\S+)$/.exec(line.trim());
      if (match?.[1]) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before printing its URL:\n${log}`));
    });
  });

  return {
    url,
    port: Number(new URL(url).port),
    dataDir: options.dataDir,
    output: () => log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

async function cli(args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await execFileAsync(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: childEnv(env), timeout: 20_000 });
  return stdout;
}

/** A fresh one-time pairing code from `autoclaw pair`. */
export async function pairingCode(dataDir: string): Promise<string> {
  const out = (await cli(['pair', '--data', dataDir])).trim();
  const code = out.split(/\s+/).pop();
  if (!code) throw new Error(`autoclaw pair printed no code: ${JSON.stringify(out)}`);
  return code;
}

/** `autoclaw history --json`, i.e. what the gateway has stored. */
export async function history(dataDir: string, session: string): Promise<Message[]> {
  return JSON.parse(await cli(['history', '--data', dataDir, '--session', session, '--json'])) as Message[];
}

/** `autoclaw usage --json` by day in `timeZone`: what the ledger holds. */
export async function usageByDay(dataDir: string, timeZone: string): Promise<{ rows: Array<{ day: string; costMicros: number; calls: number }>; total: { costMicros: number } }> {
  return JSON.parse(await cli(['usage', '--data', dataDir, '--by', 'day', '--json'], { TZ: timeZone })) as {
    rows: Array<{ day: string; costMicros: number; calls: number }>;
    total: { costMicros: number };
  };
}
