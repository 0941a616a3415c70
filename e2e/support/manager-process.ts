/**
 * Runs the real manager as a user would — `autoclaw manager --data DIR
 * --port 0` with the local driver — and the operator CLI against its data
 * directory (`autoclaw instances list --json`, `autoclaw users create`).
 * Gateways outlive a manager on purpose, so `stop()` also ends every
 * instance's gateway process group the test made.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import type { Instance } from '@autoclaw/shared';
import { REPO_ROOT } from './gateway-process';

const execFileAsync = promisify(execFile);
const CLI = join(REPO_ROOT, 'server/bin/autoclaw.mjs');

/** The parent test process's provider settings never leak into a manager or its gateways. */
const PROVIDER_ENV = /^(ANTHROPIC_|OPENAI_|AUTOCLAW_)/;

function managerEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!PROVIDER_ENV.test(name)) env[name] = value;
  // A file master key: tests never touch the OS keychain.
  return { ...env, AUTOCLAW_MASTER_KEY_STORE: 'file', ...extra };
}

export interface ManagerProcess {
  readonly url: string;
  /** The one-time setup link the manager printed (null when an account already existed). */
  readonly setupLink: string | null;
  readonly dataDir: string;
  output(): string;
  /** SIGTERM the manager, then SIGKILL every gateway it started (they outlive it by design). */
  stop(): Promise<void>;
}

export interface StartManagerOptions {
  dataDir: string;
  signup?: 'closed' | 'invite' | 'open';
  /** Extra browser origins (the desktop shell's), passed as --allow-origin. */
  allowOrigins?: string[];
  env?: Record<string, string>;
  /** More `autoclaw manager` flags (e.g. --release-pubkey). */
  args?: string[];
}

export async function startManager(options: StartManagerOptions): Promise<ManagerProcess> {
  const args = [CLI, 'manager', '--data', options.dataDir, '--port', '0'];
  if (options.signup) args.push('--signup', options.signup);
  for (const origin of options.allowOrigins ?? []) args.push('--allow-origin', origin);
  args.push(...(options.args ?? []));
  const child: ChildProcess = spawn(process.execPath, args, { cwd: REPO_ROOT, env: managerEnv(options.env ?? {}), stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString('utf8');
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));

  const printed = await new Promise<{ url: string; setupLink: string | null }>((resolve, reject) => {
    let url: string | null = null;
    const timer = setTimeout(() => reject(new Error(`the manager printed no URL within 20 s:\n${log}`)), 20_000);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      log += `${line}\n`;
      const text = line.trim();
      if (url === null && /^https?:\/\/\S+$/.test(text)) {
        url = text;
        // The setup link, when there is one, comes on the next lines; give them a moment.
        setTimeout(() => {
          clearTimeout(timer);
          resolve({ url: url as string, setupLink: /(https?:\/\/\S+\/setup\?token=\S+)/.exec(log)?.[1] ?? null });
        }, 200);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the manager exited with ${code} before printing its URL:\n${log}`));
    });
  });

  return {
    ...printed,
    dataDir: options.dataDir,
    output: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
      for (const instance of await listInstances(options.dataDir).catch(() => [])) {
        if (instance.pid !== undefined) killGroup(instance.pid);
      }
    },
  };
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function cli(args: string[], input?: string): Promise<string> {
  const run = execFileAsync(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: managerEnv({}), timeout: 20_000 });
  if (input !== undefined) run.child.stdin?.end(input);
  return (await run).stdout;
}

/** Whether a process with this pid exists (signal 0 checks without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `autoclaw instances list --data DIR --json`. */
export async function listInstances(dataDir: string): Promise<Instance[]> {
  return JSON.parse(await cli(['instances', 'list', '--data', dataDir, '--json'])) as Instance[];
}

/** `autoclaw users create --data DIR --email E` with the password on stdin. */
export async function createUser(dataDir: string, email: string, password: string): Promise<void> {
  await cli(['users', 'create', '--data', dataDir, '--email', email], `${password}\n`);
}
