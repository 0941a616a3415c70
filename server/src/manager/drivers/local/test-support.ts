/**
 * Test support for the instances, driver and supervisor tests (never
 * imported by product code): a gateway command bundled from the current
 * sources (so tests never run a stale dist/), manager keys, and a harness
 * with a manager database, the local driver and the instance service in a
 * temp directory whose cleanup kills every gateway it started.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { readRuntimeFile } from '../../../gateway';
import { keyPairOf, signPayload } from '../../../security';
import { openManagerDb } from '../../db';
import type { ManagerDb } from '../../db';
import { createTestDatabase } from '../../db/test-db';
import type { TestDatabase } from '../../db/test-db';
import { createInstanceService } from '../../instances';
import type { InstanceKeys, InstanceService, InstanceServiceDeps } from '../../instances';
import { readRecord } from './instance-files';
import { createLocalDriver } from './local-driver';
import type { LocalDriver, LocalDriverOptions } from './local-driver';
import { isProcessAlive } from './process-info';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = join(HERE, '../../../../..');
const CLI_MAIN = join(REPO_ROOT, 'server/src/cli/main.ts');

/** A place inside the repository (so node_modules resolve) for test bundles. */
function cacheDir(): string {
  const dir = join(REPO_ROOT, 'node_modules/.cache/autoclaw-tests');
  mkdirSync(dir, { recursive: true });
  return mkdtempSync(join(dir, 'gw-'));
}

/** Bundles `autoclaw` from the current sources; packages stay external (resolved from node_modules). */
export async function bundleScript(entrySource: string, name: string): Promise<{ file: string; dispose(): void }> {
  const dir = cacheDir();
  const entry = join(dir, `${name}-entry.ts`);
  const file = join(dir, `${name}.mjs`);
  writeFileSync(entry, entrySource);
  await build({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    plugins: [
      {
        name: 'packages-external-but-ours',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@autoclaw/') || args.path.startsWith('node:') ? undefined : { path: args.path, external: true }));
        },
      },
    ],
  });
  return { file, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function bundleGatewayCommand(): Promise<{ command: string[]; dispose(): void }> {
  const bundle = await bundleScript(`import { main } from ${JSON.stringify(CLI_MAIN)};\nprocess.exitCode = await main(process.argv.slice(2));\n`, 'autoclaw');
  return { command: [process.execPath, bundle.file], dispose: bundle.dispose };
}

export function testManagerKeys(): InstanceKeys & { privateKeyPem: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKey: keyPairOf(privateKey).publicKey,
    sign: (payload) => signPayload(privateKey, payload),
    masterKey: randomBytes(32),
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

/** Every gateway pid ever recorded under DIR/instances (record and runtime files). */
export function gatewayPids(dataDir: string): number[] {
  const root = join(dataDir, 'instances');
  if (!existsSync(root)) return [];
  const pids = new Set<number>();
  for (const id of readdirSync(root)) {
    const dir = join(root, id);
    for (const pid of [readRecord(dir)?.pid, readRuntimeFile(dir)?.pid]) if (pid !== undefined) pids.add(pid);
  }
  return [...pids];
}

export function killGateways(dataDir: string): void {
  for (const pid of gatewayPids(dataDir)) {
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

export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 10_000, everyMs = 20): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value as NonNullable<T>;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export const waitDead = (pid: number) => waitFor(`pid ${pid} to end`, () => !isProcessAlive(pid), 10_000);

export interface Harness {
  dir: string;
  db: ManagerDb;
  database: TestDatabase;
  keys: ReturnType<typeof testManagerKeys>;
  driver: LocalDriver;
  service: InstanceService;
  /** A new driver + service on the same directory and database (a restarted manager). */
  reopen(): Promise<{ driver: LocalDriver; service: InstanceService }>;
  close(): Promise<void>;
}

export async function startHarness(
  command: string[],
  opts: {
    dir?: string;
    /** The database of a previous harness on `dir` (a restarted manager); default a new one. */
    database?: TestDatabase;
    driver?: Partial<LocalDriverOptions>;
    service?: Partial<InstanceServiceDeps>;
    keys?: ReturnType<typeof testManagerKeys>;
  } = {},
): Promise<Harness> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'autoclaw-mgr-'));
  const database = opts.database ?? (await createTestDatabase(dir));
  const db = await openManagerDb(database.target);
  const keys = opts.keys ?? testManagerKeys();
  const services: InstanceService[] = [];
  const make = async () => {
    const driver = createLocalDriver({ dataDir: dir, command, startTimeoutMs: 20_000, ...opts.driver });
    const service = await createInstanceService({ db, driver, keys, readyTimeoutMs: 20_000, ...opts.service });
    services.push(service);
    return { driver, service };
  };
  const first = await make();
  return {
    dir,
    db,
    database,
    keys,
    ...first,
    reopen: make,
    async close() {
      for (const s of services) await s.close();
      killGateways(dir);
      // Also a standby handed an instance moments ago, whose start rehearsal would otherwise make its directory again after the one below goes.
      const strays = killGatewaysUnder(dir);
      for (const pid of [...gatewayPids(dir), ...strays]) await waitDead(pid);
      await db.close();
      if (!opts.database) await database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Kills every gateway process whose command line names a directory under
 * `root` — also ones whose pid no record holds yet (a manager stopped while
 * it was provisioning).
 */
export function killGatewaysUnder(root: string): number[] {
  const killed: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const args = cmdline.split('\0');
    if (!args.includes('gateway') || !args.some((a) => a === root || a.startsWith(`${root}/`))) continue;
    try {
      process.kill(Number(entry), 'SIGKILL');
      killed.push(Number(entry));
    } catch {
      // gone
    }
  }
  return killed;
}

/** Live processes whose command line names the instance (a gateway started twice would show 2). */
export function gatewayProcesses(instanceId: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return args.includes('--instance-id') && args.includes(instanceId) && isProcessAlive(Number(pid));
      } catch {
        return false;
      }
    })
    .map(Number);
}

/**
 * Live processes with a file under `dataDir` open (the store's database): a
 * gateway on that data, however started — spawned for the instance, or a
 * warm standby assigned to it (whose command line does not name it).
 */
export function processesOnData(dataDir: string): number[] {
  const prefix = `${dataDir}/`;
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readdirSync(`/proc/${pid}/fd`).some((fd) => {
          try {
            return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(prefix);
          } catch {
            return false;
          }
        });
      } catch {
        return false;
      }
    })
    .map(Number)
    .filter((pid) => pid !== process.pid && isProcessAlive(pid));
}

/**
 * Runs a child manager script (node SCRIPT ...args) until one of the JSON
 * lines it prints satisfies `killWhen`, then SIGKILLs it; resolves with that
 * line. Rejects when the child ends on its own first.
 */
export function killChildWhen<T>(script: string, args: string[], killWhen: (line: T) => boolean, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    let stderr = '';
    let hit: { line: T } | null = null;
    const deadline = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const text of lines) {
        if (hit) return;
        const line = JSON.parse(text) as T;
        if (killWhen(line)) {
          hit = { line };
          child.kill('SIGKILL');
        }
      }
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(deadline);
      if (hit && signal === 'SIGKILL') resolve(hit.line);
      else reject(new Error(`the child manager ended without reaching the kill point (${signal ?? 'exit'}): ${stderr.slice(-2000)}`));
    });
  });
}
