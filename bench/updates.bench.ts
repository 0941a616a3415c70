// Updates and backups with the local driver on a 10k-message instance: a
// real manager database, real gateway processes (the built server/dist), a
// signed directory release (a wrapper around the same build under another
// version). update.total_ms includes a 1 s health window after the switch
// (the product default is 60 s); update.downtime_ms is the longest stretch in
// which the live instance's /readyz did not answer 200, polled every 5 ms.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createInstanceService, createLocalDriver, createUpdatesPart, openManagerDb } from '../server/src/manager/index';
import { artifactDigest, signManifest } from '../server/src/manager/updates/index';
import { keyPairOf, signPayload } from '../server/src/security/index';
import { openStore } from '../server/src/store/index';
import { median, ROOT, round, tempDir, writeFigures } from './support';

const figures: Record<string, number> = {};
const dir = tempDir('autoclaw-bench-updates-');
const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const { privateKey } = generateKeyPairSync('ed25519');
const keys = { publicKey: keyPairOf(privateKey).publicKey, sign: (p: string) => signPayload(privateKey, p), masterKey: randomBytes(32) };
const releaseKey = generateKeyPairSync('ed25519').privateKey;

const db = await openManagerDb({ engine: 'sqlite', path: join(dir.path, 'manager.db') });
const driver = createLocalDriver({ dataDir: dir.path });
let versionOf: (id: string) => Promise<string | null> = async () => null;
const service = await createInstanceService({ db, driver, keys, versionOf: (id) => versionOf(id) });
const part = await createUpdatesPart({
  dataDir: dir.path,
  db,
  instances: service,
  masterKey: keys.masterKey,
  now: Date.now,
  logger: silent,
  builtInVersion: '0.0.0-bench',
  releaseKeys: [keyPairOf(releaseKey).publicKey],
  timings: { healthWindowMs: 1_000, healthPollMs: 100 },
});
versionOf = (id) => part.versions.versionOf(id);

// The release: a directory whose autoclaw.mjs runs the built bundle.
const tree = join(dir.path, 'release-tree');
mkdirSync(tree);
writeFileSync(join(tree, 'autoclaw.mjs'), `import { main } from ${JSON.stringify(pathToFileURL(join(ROOT, 'server/dist/autoclaw.mjs')).href)};\nprocess.exitCode = await main(process.argv.slice(2));\n`);
const manifest = signManifest({ version: '99.0.0', channel: 'stable', artifact: tree, artifactSha256: artifactDigest(tree), minSchemaVersion: 1, notes: 'bench' }, releaseKey);
await part.releases.add(JSON.stringify(manifest), dir.path);

try {
  const instance = await service.provision('bench@example.com');
  const store = openStore({ path: join(dir.path, 'instances', instance.id, 'gateway.db') });
  const session = store.ensureSession('bench');
  for (let i = 0; i < 10_000; i += 1_000) {
    const out = store.insertUserMessages(Array.from({ length: 1_000 }, (_, j) => ({ sessionId: session.id, clientId: `m-${i + j}`, text: `message ${i + j} ${'lorem ipsum '.repeat(8)}` })));
    for (const o of out) if (o.ok) store.setMessageStatus(o.result.message.id, 'done');
  }
  store.close();

  const creates: number[] = [];
  let backupId = '';
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    backupId = (await part.backups.create(instance.id, 'manual')).id;
    creates.push(performance.now() - t);
  }
  figures['backup.create_ms_10k_messages'] = round(median(creates), 1);

  const t0 = performance.now();
  await part.restorer.restore(instance.id, backupId, 'bench');
  figures['restore.ms_10k_messages'] = round(performance.now() - t0, 1);

  const url = (await service.mustGet(instance.id)).url as string;
  let polling = true;
  let downSince: number | null = null;
  let longest = 0;
  const poller = (async () => {
    while (polling) {
      let ok = false;
      try {
        ok = (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(500) })).ok;
      } catch {
        ok = false;
      }
      const now = performance.now();
      if (!ok && downSince === null) downSince = now;
      if (ok && downSince !== null) {
        longest = Math.max(longest, now - downSince);
        downSince = null;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const t1 = performance.now();
  const run = await part.updater.begin(instance.id, { kind: 'update', version: '99.0.0', actor: 'bench' }).finished;
  figures['update.total_ms'] = round(performance.now() - t1, 1);
  polling = false;
  await poller;
  if (run.outcome !== 'succeeded') throw new Error(`the bench update did not succeed: ${run.reason}`);
  figures['update.downtime_ms'] = round(longest, 1);
} finally {
  await part.close();
  for (const i of await service.list()) await driver.destroy(i.id).catch(() => undefined);
  await service.close();
  await db.close();
  dir.remove();
}
writeFigures(figures);
