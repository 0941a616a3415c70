import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openManagerDb } from '../db';
import type { ManagerDb } from '../db';
import { silentLogger } from '../gateway-parts';
import { loadOrCreateSigningKey, managerPublicKey, signWithManagerKey } from '../keys';
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

describe('the audit log', () => {
  let dir: string;
  let db: ManagerDb;
  let log: AuditLog;
  let publicKey: string;
  let sign: (p: string) => string;
  let headPath: string;
  let clock = 1_000;

  const open = () => openAuditLog({ db, headPath, sign, publicKey, now: () => clock++, logger: silentLogger });
  const verify = () => verifyAudit(db, publicKey, headPath);
  /** What an attacker with the database file does: drop the guards, then write SQL. */
  const tamper = (sql: string, ...params: unknown[]) => {
    db.exec('DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;');
    db.prepare(sql).run(...params);
  };
  const rows = () => db.prepare('SELECT * FROM audit_log ORDER BY seq').all() as Row[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-audit-'));
    db = openManagerDb(join(dir, 'manager.db'));
    const key = loadOrCreateSigningKey(dir);
    publicKey = managerPublicKey(key);
    sign = (p) => signWithManagerKey(key, p);
    headPath = join(dir, 'audit-head.json');
    log = open();
    for (let i = 1; i <= 5; i++) log.append({ actor: 'user:u1', action: 'instance.start', target: `inst-${i}`, details: { n: i, nested: { b: 1, a: [1, 2] } } });
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('chains entries, signs the head after each append, and verifies', () => {
    const entries = log.list();
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(entries[0]?.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < entries.length; i++) expect(entries[i]?.prevHash).toBe(entries[i - 1]?.hash);
    expect(entries[2]).toMatchObject({ actor: 'user:u1', action: 'instance.start', target: 'inst-3', details: { n: 3, nested: { a: [1, 2], b: 1 } } });
    const head = readHeadFile(headPath);
    expect(head.kind === 'ok' && head.head).toMatchObject({ count: 5, hash: entries[4]?.hash });
    expect(verify()).toEqual({ ok: true, count: 5, signedCount: 5, firstBadSeq: null, problem: null });
    expect(log.list({ afterSeq: 3, limit: 1 }).map((e) => e.seq)).toEqual([4]);
    expect(log.count()).toBe(5);
  });

  it('is append-only for the program (triggers refuse UPDATE and DELETE)', () => {
    expect(() => db.prepare("UPDATE audit_log SET actor = 'x' WHERE seq = 1").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_log WHERE seq = 5').run()).toThrow(/append-only/);
    expect(verify().ok).toBe(true);
  });

  it('refuses details that are not plain JSON', () => {
    expect(() => log.append({ actor: 'system', action: 'x', details: { when: new Date() } })).toThrow(/must be JSON/);
    expect(() => log.append({ actor: '', action: 'x' })).toThrow();
    expect(log.count()).toBe(5);
  });

  it('catches an edited field', () => {
    tamper("UPDATE audit_log SET target = 'someone-else' WHERE seq = 3");
    expect(verify()).toMatchObject({ ok: false, firstBadSeq: 3, problem: expect.stringMatching(/entry 3 was edited/) });
  });

  it('catches edited details, even re-serialized', () => {
    tamper('UPDATE audit_log SET details = ? WHERE seq = 2', JSON.stringify({ n: 20, nested: { a: [1, 2], b: 1 } }));
    expect(verify()).toMatchObject({ ok: false, firstBadSeq: 2 });
    tamper('UPDATE audit_log SET details = ? WHERE seq = 2', 'not json');
    expect(verify()).toMatchObject({ ok: false, firstBadSeq: 2, problem: expect.stringMatching(/malformed/) });
  });

  it('catches reordered entries', () => {
    tamper('UPDATE audit_log SET seq = 100 WHERE seq = 2');
    tamper('UPDATE audit_log SET seq = 2 WHERE seq = 3');
    tamper('UPDATE audit_log SET seq = 3 WHERE seq = 100');
    expect(verify()).toMatchObject({ ok: false, firstBadSeq: 2, problem: expect.stringMatching(/does not follow entry 1/) });
  });

  it('catches a removed entry', () => {
    tamper('DELETE FROM audit_log WHERE seq = 3');
    expect(verify()).toMatchObject({ ok: false, firstBadSeq: 3, problem: 'entry 3 is missing (removed from the log)' });
  });

  it('catches a truncated log', () => {
    tamper('DELETE FROM audit_log WHERE seq >= 4');
    expect(verify()).toMatchObject({ ok: false, count: 3, signedCount: 5, firstBadSeq: 4, problem: expect.stringMatching(/truncated/) });
    tamper('DELETE FROM audit_log');
    expect(verify()).toMatchObject({ ok: false, count: 0, firstBadSeq: 1 });
  });

  it('catches a chain recomputed without the key (entries and head re-signed with another key)', () => {
    const forger = generateKeyPairSync('ed25519').privateKey;
    const all = rows();
    let prev = all[0]!.hash;
    for (const row of all.slice(1)) {
      const details = row.seq === 2 ? { n: 2, nested: { a: [1, 2], b: 1 }, forged: true } : (JSON.parse(row.details) as Record<string, unknown>);
      const hash = entryHash({ seq: row.seq, at: row.at, actor: row.actor, action: row.action, target: row.target, details, prevHash: prev });
      tamper('UPDATE audit_log SET details = ?, prev_hash = ?, hash = ?, signature = ? WHERE seq = ?', JSON.stringify(details), prev, hash, signWithManagerKey(forger, entrySigningInput(row.seq, hash)), row.seq);
      prev = hash;
    }
    writeHeadFile(headPath, { count: 5, hash: prev, at: 0 }, (p) => signWithManagerKey(forger, p));
    expect(verify()).toMatchObject({ ok: false, firstBadSeq: 2, problem: expect.stringMatching(/not signed by the manager's key/) });
  });

  it('catches a missing or forged head', () => {
    rmSync(headPath);
    expect(verify()).toMatchObject({ ok: false, signedCount: null, problem: expect.stringMatching(/is missing/) });
    const forger = generateKeyPairSync('ed25519').privateKey;
    writeHeadFile(headPath, { count: 5, hash: rows()[4]!.hash, at: 0 }, (p) => signWithManagerKey(forger, p));
    expect(verify()).toMatchObject({ ok: false, problem: expect.stringMatching(/signature does not verify/) });
  });

  it('never vouches for a forged appended entry; the next real append keeps it flagged', () => {
    const last = rows()[4]!;
    const forged = { seq: 6, at: 9, actor: 'operator', action: 'user.create', target: 'evil', details: {}, prevHash: last.hash };
    const hash = entryHash(forged);
    db.prepare('INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(6, 9, 'operator', 'user.create', 'evil', '{}', last.hash, hash, 'A'.repeat(86));
    log.append({ actor: 'system', action: 'after' });
    const head = readHeadFile(headPath);
    expect(head.kind === 'ok' && head.head.count).toBe(5);
    expect(verify()).toMatchObject({ ok: false, firstBadSeq: 6 });
  });

  it('an append inside a caller transaction rolls back with it; a committed one is vouched for by the next head', () => {
    const failing = db.transaction(() => {
      log.append({ actor: 'system', action: 'inside' });
      throw new Error('the action failed');
    });
    expect(() => failing()).toThrow('the action failed');
    expect(log.count()).toBe(5);
    expect(verify().ok).toBe(true);

    db.transaction(() => log.append({ actor: 'system', action: 'inside' }))();
    expect(verify()).toMatchObject({ ok: true, count: 6, signedCount: 5 });
    // A restart (or the next append) brings the head up to date.
    log = open();
    expect(verify()).toMatchObject({ ok: true, count: 6, signedCount: 6 });
  });
});
