/**
 * Test support (never imported by product code): a release key, and
 * synthetic releases built from the current sources — a good one (another
 * version string, plus a harmless new data migration so a switch changes the
 * live data), one whose gateway never becomes ready, one whose migration
 * throws, and one that crashes AUTOCLAW_TEST_CRASH_AFTER_MS after it starts
 * (but not as a trial) — each packed as a .tar.gz with a signed manifest.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Plugin } from 'esbuild';
import type { ReleaseChannel } from '@autoclaw/shared';
import { keyPairOf } from '../../security';
import type { TestDatabase } from '../db/test-db';
import { REPO_ROOT, startHarness } from '../drivers/local/test-support';
import type { testManagerKeys } from '../drivers/local/test-support';
import { createUpdatesPart } from './part';
import type { UpdateTimings } from './updater';
import { VERSION as BUILT_IN_VERSION } from '../gateway-parts';
import { artifactDigest, signManifest } from './manifest';

export { BUILT_IN_VERSION };

export type ReleaseKind = 'good' | 'not-ready' | 'migration-throws' | 'crash-after-switch';

export function testReleaseKey(): { privateKey: KeyObject; publicKey: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey: keyPairOf(privateKey).publicKey };
}

const CLI_MAIN = join(REPO_ROOT, 'server/src/cli/main.ts');

function patches(version: string, migrationSql: string | null): Plugin {
  return {
    name: 'release-patches',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@autoclaw/') || args.path.startsWith('node:') ? undefined : { path: args.path, external: true }));
      b.onLoad({ filter: /server[\\/]package\.json$/ }, (args) => {
        const pkg = JSON.parse(readFileSync(args.path, 'utf8')) as { version: string };
        return { contents: JSON.stringify({ ...pkg, version }), loader: 'json' };
      });
      if (migrationSql !== null) {
        b.onLoad({ filter: /store[\\/]migrations\.ts$/ }, (args) => ({
          contents: readFileSync(args.path, 'utf8').replace(
            'export const SCHEMA_VERSION = MIGRATIONS.length;',
            `(MIGRATIONS as Migration[]).push({ version: MIGRATIONS.length + 1, sql: ${JSON.stringify(migrationSql)} });\nexport const SCHEMA_VERSION = MIGRATIONS.length;`,
          ),
          loader: 'ts',
        }));
      }
    },
  };
}

const NOT_READY_ENTRY = `
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
const arg = (name) => process.argv[process.argv.indexOf(name) + 1];
const dir = arg('--data');
const id = arg('--instance-id');
const server = createServer((req, res) => {
  if (req.url === '/healthz') { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ ok: true, instanceId: id })); return; }
  res.statusCode = 503; res.end('{"ready":false}');
});
server.listen(Number(arg('--port')), arg('--host'), () => {
  const port = server.address().port;
  writeFileSync(join(dir, 'runtime.json'), JSON.stringify({ pid: process.pid, port, url: 'http://' + arg('--host') + ':' + port, startedAt: Date.now() }));
});
process.on('SIGTERM', () => process.exit(0));
`;

function entryOf(kind: ReleaseKind): string {
  const main = `import { main } from ${JSON.stringify(CLI_MAIN)};\n`;
  if (kind === 'crash-after-switch') {
    // Trial or not is told by the data directory the gateway runs in (its cwd), known only once a warm standby is assigned.
    return `${main}setTimeout(() => { if (!process.cwd().endsWith('-trial')) process.exit(70); }, Number(process.env.AUTOCLAW_TEST_CRASH_AFTER_MS ?? 60000));\nprocess.exitCode = await main(process.argv.slice(2));\n`;
  }
  return `${main}process.exitCode = await main(process.argv.slice(2));\n`;
}

export interface BuiltRelease {
  version: string;
  /** The signed manifest file (its artifact beside it). */
  manifestPath: string;
  tarball: string;
  /** The signed artifact SHA-256 (a Kubernetes release's image digest). */
  sha256: string;
}

/** Builds, packs and signs a synthetic release in `outDir` (inside the repository, so node_modules resolve while building). */
export async function buildTestRelease(outDir: string, o: { version: string; kind: ReleaseKind; key: KeyObject; channel?: ReleaseChannel; minSchemaVersion?: number; image?: string }): Promise<BuiltRelease> {
  const work = mkdtempSync(join(outDir, `rel-${o.version}-`));
  const tree = join(work, 'tree');
  mkdirSync(tree);
  const entry = join(work, 'entry.mjs');
  if (o.kind === 'not-ready') writeFileSync(join(tree, 'autoclaw.mjs'), NOT_READY_ENTRY);
  else {
    writeFileSync(entry, entryOf(o.kind));
    const sql = o.kind === 'migration-throws' ? 'CREATE TABLE sessions (x TEXT)' : `CREATE TABLE release_marker (v TEXT); INSERT INTO release_marker VALUES ('${o.version}');`;
    await build({
      entryPoints: [entry],
      outfile: join(tree, 'autoclaw.mjs'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'silent',
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
      plugins: [patches(o.version, sql)],
    });
  }
  const tarball = join(work, `autoclaw-${o.version}.tar.gz`);
  execFileSync('tar', ['-czf', tarball, '-C', tree, '.']);
  rmSync(tree, { recursive: true, force: true });
  const manifest = signManifest(
    { version: o.version, channel: o.channel ?? 'stable', artifact: `autoclaw-${o.version}.tar.gz`, artifactSha256: artifactDigest(tarball), ...(o.image ? { image: o.image } : {}), minSchemaVersion: o.minSchemaVersion ?? 1, notes: `test release (${o.kind})` },
    o.key,
  );
  const manifestPath = join(work, 'manifest.json');
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return { version: o.version, manifestPath, tarball, sha256: manifest.artifactSha256 };
}

/** A manager's instances and updates parts on a temp directory, with a bundled built-in gateway. */
export async function startUpdatesHarness(command: string[], o: { releaseKey: string; crashAfterMs?: number; timings?: Partial<UpdateTimings>; dir?: string; database?: TestDatabase; keys?: ReturnType<typeof testManagerKeys> }) {
  let part: Awaited<ReturnType<typeof createUpdatesPart>> | null = null;
  const harness = await startHarness(command, {
    ...(o.dir ? { dir: o.dir } : {}),
    ...(o.database ? { database: o.database } : {}),
    ...(o.keys ? { keys: o.keys } : {}),
    driver: { baseEnv: { AUTOCLAW_TEST_CRASH_AFTER_MS: String(o.crashAfterMs ?? 60_000) } },
    service: { readyTimeoutMs: 10_000, versionOf: async (id) => (part ? part.versions.versionOf(id) : null) },
  });
  part = await createUpdatesPart({
    dataDir: harness.dir,
    db: harness.db,
    instances: harness.service,
    masterKey: harness.keys.masterKey,
    now: Date.now,
    logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    builtInVersion: BUILT_IN_VERSION,
    releaseKeys: [o.releaseKey],
    timings: { healthWindowMs: 1_500, healthPollMs: 100, drainTimeoutMs: 2_000, ...o.timings },
  });
  return { ...harness, part };
}

/** The deterministic dump of a gateway database file (read-only). */
export async function dumpGatewayDb(path: string): Promise<string> {
  const { default: Database } = await import('better-sqlite3');
  const { dumpDatabase } = await import('../../store/dump');
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return dumpDatabase(db);
  } finally {
    db.close();
  }
}

/** A dump without the gateway's own access records (devices seen, tickets used, its audit log), which every start adds to. */
export function userData(dump: string): string {
  const skip = new Set(['[devices]', '[used_tickets]', '[audit_log]', '[pairing_codes]']);
  let skipping = false;
  return dump
    .split('\n')
    .filter((line) => {
      if (line.startsWith('[')) skipping = skip.has(line);
      return !skipping;
    })
    .join('\n');
}

/** Writes a session with `count` user messages into a gateway's database (while it runs: SQLite serialises the writers). */
export async function seedMessages(path: string, count: number, prefix = 'message'): Promise<void> {
  const { openStore } = await import('../../store');
  const store = openStore({ path });
  try {
    const session = store.ensureSession(`seed-${prefix}`);
    for (let i = 0; i < count; i += 500) {
      const outcomes = store.insertUserMessages(Array.from({ length: Math.min(500, count - i) }, (_, j) => ({ sessionId: session.id, clientId: `${prefix}-${i + j}`, text: `${prefix} number ${i + j}` })));
      // History, not work: answered turns (a queued message would be taken up by the gateway's next start).
      for (const o of outcomes) if (o.ok) store.setMessageStatus(o.result.message.id, 'done');
    }
  } finally {
    store.close();
  }
}
