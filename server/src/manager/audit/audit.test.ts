import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openManagerDb } from '../db';
import type { ManagerDb } from '../db';
import { createTestDatabase, testEngine, withRawSql } from '../db/test-db';
import type { RawSql, TestDatabase } from '../db/test-db';
import { silentLogger } from '../gateway-parts';
import { bundleScript } from '../drivers/local/test-support';
import { loadOrCreateSigningKey, managerPublicKey, signWithManagerKey } from '../keys';
import type { SecretKeychain } from '../keychain';
import { anchorStoreFor, fileAnchor } from './anchor';
import { entryHash, entrySigningInput, GENESIS_HASH } from './canonical';
import { readHeadFile, writeHeadFile } from './head-file';
import { openAuditLog } from './log';
import type { AuditLog } from './log';
import { verifyAudit } from './verify';

interface Row {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  details: string;
  prev_hash: string;
  hash: string;
  signature: string;
}

const src = (rel: string) => JSON.stringify(fileURLToPath(new URL(rel, import.meta.url)));

/** A second process appending to the same log: argv = database target (JSON), data directory, how many. */
const APPENDER = `
import { join } from 'node:path';
import { openManagerDb } from ${src('../db/index.ts')};
import { fileAnchor, openAuditLog } from ${src('./index.ts')};
import { loadOrCreateSigningKey, managerPublicKey, signWithManagerKey } from ${src('../keys.ts')};
const [target, dir, count] = process.argv.slice(2);
const db = await openManagerDb(JSON.parse(target));
const key = loadOrCreateSigningKey(dir);
const quiet = { debug() {}, info() {}, warn() {}, error(m, f) { console.error(m, f); } };
const log = await openAuditLog({ db, headPath: join(dir, 'audit-head.json'), anchor: fileAnchor(dir), sign: (p) => signWithManagerKey(key, p), publicKey: managerPublicKey(key), now: Date.now, logger: quiet });
for (let i = 0; i < Number(count); i++) await log.append({ actor: 'system', action: 'concurrent', target: 'there-' + i });
await db.close();
`;

let appender: { file: string; dispose(): void };
beforeAll(async () => {
  appender = await bundleScript(APPENDER, 'audit-appender');
});
afterAll(() => appender.dispose());

describe(`the audit log (${testEngine()})`, () => {
  let dir: string;
  let database: TestDatabase;
  let db: ManagerDb;
  let log: AuditLog;
  let publicKey: string;
  let sign: (p: string) => string;
  let headPath: string;
  let clock = 1_000;
  const anchor = () => fileAnchor(dir);
  const open = (on: ManagerDb = db) => openAuditLog({ db: on, headPath, anchor: anchor(), sign, publicKey, now: () => clock++, logger: silentLogger });
  const verify = () => verifyAudit(db, publicKey, headPath, anchor());
  /** What an attacker with the database does: drop the guards, then write SQL. */
  const tamper = (fn: (raw: RawSql) => Promise<void>) =>
    withRawSql(database.target, async (raw) => {
      await raw.dropAuditGuards();
      await fn(raw);
    });
  const sqlRun = (sql: string, ...params: unknown[]) => withRawSql(database.target, (raw) => raw.run(sql, ...params));
  const rows = () => withRawSql(database.target, (raw) => raw.all<Row>('SELECT * FROM audit_log ORDER BY seq'));

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-audit-'));
    database = await createTestDatabase(dir);
    db = await openManagerDb(database.target);
    const key = loadOrCreateSigningKey(dir);
    publicKey = managerPublicKey(key);
    sign = (p) => signWithManagerKey(key, p);
    headPath = join(dir, 'audit-head.json');
    log = await open();
    for (let i = 1; i <= 5; i++) await log.append({ actor: 'user:u1', action: 'instance.start', target: `inst-${i}`, details: { n: i, nested: { b: 1, a: [1, 2] } } });
  });
  afterEach(async () => {
    await db.close();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('chains entries, signs the head (and the anchor) after each append, and verifies', async () => {
    const entries = await log.list();
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(entries[0]?.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < entries.length; i++) expect(entries[i]?.prevHash).toBe(entries[i - 1]?.hash);
    expect(entries[2]).toMatchObject({ actor: 'user:u1', action: 'instance.start', target: 'inst-3', details: { n: 3, nested: { a: [1, 2], b: 1 } } });
    const head = readHeadFile(headPath);
    expect(head.kind === 'ok' && head.head).toMatchObject({ count: 5, hash: entries[4]?.hash });
    const anchored = anchor().read();
    expect(anchored.kind === 'ok' && anchored.head).toMatchObject({ count: 5, hash: entries[4]?.hash });
    expect(await verify()).toEqual({ ok: true, count: 5, signedCount: 5, firstBadSeq: null, problem: null });
    expect((await log.list({ afterSeq: 3, limit: 1 })).map((e) => e.seq)).toEqual([4]);
    expect(await log.count()).toBe(5);
  });

  it('is append-only for the program (triggers refuse UPDATE and DELETE)', async () => {
    await expect(sqlRun("UPDATE audit_log SET actor = 'x' WHERE seq = 1")).rejects.toThrow(/append-only/);
    await expect(sqlRun('DELETE FROM audit_log WHERE seq = 5')).rejects.toThrow(/append-only/);
    if (testEngine() === 'postgres') await expect(sqlRun('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
    expect((await verify()).ok).toBe(true);
  });

  it('refuses details that are not plain JSON', async () => {
    await expect(log.append({ actor: 'system', action: 'x', details: { when: new Date() } })).rejects.toThrow(/must be JSON/);
    await expect(log.append({ actor: '', action: 'x' })).rejects.toThrow();
    expect(await log.count()).toBe(5);
  });

  it('catches an edited field', async () => {
    await tamper((raw) => raw.run("UPDATE audit_log SET target = 'someone-else' WHERE seq = 3"));
    expect(await verify()).toMatchObject({ ok: false, firstBadSeq: 3, problem: expect.stringMatching(/entry 3 was edited/) });
  });

  it('catches edited details, even re-serialized', async () => {
    await tamper((raw) => raw.run('UPDATE audit_log SET details = ? WHERE seq = 2', JSON.stringify({ n: 20, nested: { a: [1, 2], b: 1 } })));
    expect(await verify()).toMatchObject({ ok: false, firstBadSeq: 2 });
    await tamper((raw) => raw.run('UPDATE audit_log SET details = ? WHERE seq = 2', 'not json'));
    expect(await verify()).toMatchObject({ ok: false, firstBadSeq: 2, problem: expect.stringMatching(/malformed/) });
  });

  it('catches reordered entries', async () => {
    await tamper(async (raw) => {
      await raw.run('UPDATE audit_log SET seq = 100 WHERE seq = 2');
      await raw.run('UPDATE audit_log SET seq = 2 WHERE seq = 3');
      await raw.run('UPDATE audit_log SET seq = 3 WHERE seq = 100');
    });
    expect(await verify()).toMatchObject({ ok: false, firstBadSeq: 2, problem: expect.stringMatching(/does not follow entry 1/) });
  });

  it('catches a removed entry', async () => {
    await tamper((raw) => raw.run('DELETE FROM audit_log WHERE seq = 3'));
    expect(await verify()).toMatchObject({ ok: false, firstBadSeq: 3, problem: 'entry 3 is missing (removed from the log)' });
  });

  it('catches a truncated log', async () => {
    await tamper((raw) => raw.run('DELETE FROM audit_log WHERE seq >= 4'));
    expect(await verify()).toMatchObject({ ok: false, count: 3, signedCount: 5, firstBadSeq: 4, problem: expect.stringMatching(/truncated/) });
    await tamper((raw) => raw.run('DELETE FROM audit_log'));
    expect(await verify()).toMatchObject({ ok: false, count: 0, firstBadSeq: 1 });
  });

  it('catches a chain recomputed without the key (entries and head re-signed with another key)', async () => {
    const forger = generateKeyPairSync('ed25519').privateKey;
    const all = await rows();
    let prev = all[0]!.hash;
    await tamper(async (raw) => {
      for (const row of all.slice(1)) {
        const details = row.seq === 2 ? { n: 2, nested: { a: [1, 2], b: 1 }, forged: true } : (JSON.parse(row.details) as Record<string, unknown>);
        const hash = entryHash({ seq: row.seq, at: row.at, actor: row.actor, action: row.action, target: row.target, details, prevHash: prev });
        await raw.run('UPDATE audit_log SET details = ?, prev_hash = ?, hash = ?, signature = ? WHERE seq = ?', JSON.stringify(details), prev, hash, signWithManagerKey(forger, entrySigningInput(row.seq, hash)), row.seq);
        prev = hash;
      }
    });
    writeHeadFile(headPath, { count: 5, hash: prev, at: 0 }, (p) => signWithManagerKey(forger, p));
    expect(await verify()).toMatchObject({ ok: false, firstBadSeq: 2, problem: expect.stringMatching(/not signed by the manager's key/) });
  });

  it('catches a missing or forged head', async () => {
    rmSync(headPath);
    expect(await verify()).toMatchObject({ ok: false, signedCount: null, problem: expect.stringMatching(/is missing/) });
    const forger = generateKeyPairSync('ed25519').privateKey;
    writeHeadFile(headPath, { count: 5, hash: (await rows())[4]!.hash, at: 0 }, (p) => signWithManagerKey(forger, p));
    expect(await verify()).toMatchObject({ ok: false, problem: expect.stringMatching(/signature does not verify/) });
  });

  it('never vouches for a forged appended entry; the next real append keeps it flagged', async () => {
    const last = (await rows())[4]!;
    const forged = { seq: 6, at: 9, actor: 'operator', action: 'user.create', target: 'evil', details: {}, prevHash: last.hash };
    const hash = entryHash(forged);
    await sqlRun('INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', 6, 9, 'operator', 'user.create', 'evil', '{}', last.hash, hash, 'A'.repeat(86));
    await log.append({ actor: 'system', action: 'after' });
    const head = readHeadFile(headPath);
    expect(head.kind === 'ok' && head.head.count).toBe(5);
    expect(await verify()).toMatchObject({ ok: false, firstBadSeq: 6 });
  });

  it('an append inside a caller transaction rolls back with it; a committed one is vouched for by the next head', async () => {
    await expect(
      db.tx(async (t) => {
        await log.append({ actor: 'system', action: 'inside' }, t);
        throw new Error('the action failed');
      }),
    ).rejects.toThrow('the action failed');
    expect(await log.count()).toBe(5);
    expect((await verify()).ok).toBe(true);
    await db.tx((t) => log.append({ actor: 'system', action: 'inside' }, t));
    expect(await verify()).toMatchObject({ ok: true, count: 6, signedCount: 5 });
    // A restart (or the next append) brings the head up to date.
    log = await open();
    expect(await verify()).toMatchObject({ ok: true, count: 6, signedCount: 6 });
  });

  it('stays ONE chain when two processes (replicas) append at once: the database orders them', async () => {
    // Another process appending through its own connection, at the same time as this one.
    const child = spawn(process.execPath, [appender.file, JSON.stringify(database.target), dir, '10'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    for (let i = 0; i < 10; i++) await log.append({ actor: 'system', action: 'concurrent', target: `here-${i}` });
    expect([await exited, err]).toEqual([0, '']);
    const all = await log.list({ limit: 500 });
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(new Set(all.map((e) => e.target)).size).toBe(25);
    expect(all.filter((e) => e.target?.startsWith('there-'))).toHaveLength(10);
    await log.refreshHead();
    expect(await verify()).toMatchObject({ ok: true, count: 25, signedCount: 25 });
  });

  it('reports a rollback: an older database restored with its head file fails against the anchor kept with the master key', async () => {
    // The backup: the database and its head as they are now (5 entries)…
    const backup = mkdtempSync(join(tmpdir(), 'autoclaw-audit-backup-'));
    try {
      copyFileSync(headPath, join(backup, 'audit-head.json'));
      for (let i = 6; i <= 8; i++) await log.append({ actor: 'operator', action: 'user.create', target: `later-${i}` });
      expect(await verify()).toMatchObject({ ok: true, count: 8 });
      // …then "restored": the newer entries gone from the table, the old head file back (both agree with each other).
      await tamper((raw) => raw.run('DELETE FROM audit_log WHERE seq > 5'));
      copyFileSync(join(backup, 'audit-head.json'), headPath);
      const restored = await verify();
      expect(restored).toMatchObject({ ok: false, count: 5, signedCount: 5, firstBadSeq: 6, problem: expect.stringMatching(/rolled back: the anchor kept with the master key .* vouches for 8 entries, the log has 5/) });
      // Without the anchor's check (as before), the same restore would have passed.
      expect(await verifyAudit(db, publicKey, headPath)).toMatchObject({ ok: true, count: 5 });
    } finally {
      rmSync(backup, { recursive: true, force: true });
    }
  });

  it('with the master key in the OS keychain, the anchor is an entry beside it: a restored data directory is still caught', async () => {
    const entries = new Map<string, string>();
    const keychain: SecretKeychain = { name: 'test keychain', get: (service, account) => entries.get(`${service}/${account}`) ?? null, set: (service, account, secret) => void entries.set(`${service}/${account}`, secret) };
    const inKeychain = anchorStoreFor(dir, 'keychain', keychain);
    const withKeychain = await openAuditLog({ db, headPath, anchor: inKeychain, sign, publicKey, now: () => clock++, logger: silentLogger });
    expect(inKeychain.read()).toMatchObject({ kind: 'ok', head: { count: 5 } });
    expect(inKeychain.where).toMatch(/test keychain \(autoclaw-manager \/ audit-anchor:/);
    const backup = mkdtempSync(join(tmpdir(), 'autoclaw-audit-backup-'));
    try {
      copyFileSync(headPath, join(backup, 'audit-head.json'));
      await withKeychain.append({ actor: 'operator', action: 'user.create', target: 'later' });
      // The whole data directory restored — the head file and the anchor file too — but not the keychain.
      await tamper((raw) => raw.run('DELETE FROM audit_log WHERE seq > 5'));
      copyFileSync(join(backup, 'audit-head.json'), headPath);
      // A copy of the anchor inside the restored directory would have been restored with it (and vouch for the old log)…
      expect(await verifyAudit(db, publicKey, headPath, fileAnchor(dir))).toMatchObject({ ok: true, count: 5 });
      // …the keychain's is not.
      expect(await verifyAudit(db, publicKey, headPath, inKeychain)).toMatchObject({ ok: false, firstBadSeq: 6, problem: expect.stringMatching(/rolled back: the anchor kept with the master key \(the test keychain/) });
    } finally {
      rmSync(backup, { recursive: true, force: true });
    }
  });
});
