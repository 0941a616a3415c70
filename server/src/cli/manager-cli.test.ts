/**
 * The operator commands end to end, as people script them: real processes
 * from the built bundle (`node server/bin/autoclaw.mjs`), a real manager
 * process, and an audit log tampered with through plain SQL.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killGateways, killGatewaysUnder } from '../manager/drivers/local/test-support';
import { entryHash } from '../manager/audit';
import { writeHeadFile } from '../manager/audit/head-file';
import { auditHeadPath, managerKeyPath, managerRuntimePath, signWithManagerKey } from '../manager';
import { copyTestDatabase, createTestDatabase, testEngine, withRawSql } from '../manager/db/test-db';
import type { RawSql, TestDatabase } from '../manager/db/test-db';
import { BIN, cliEnv, ensureBundle, ROOT, runCli } from './cli-harness';

const PW = 'correct horse battery';
/** Each data directory's database (its SQLite file, or a PostgreSQL database of its own). */
const databases = new Map<string, TestDatabase>();
/** The environment of every command on `dir`: a file master key, and (on PostgreSQL) AUTOCLAW_DATABASE_URL. */
const envOf = (dir: string): Record<string, string> => ({ AUTOCLAW_MASTER_KEY_STORE: 'file', ...databases.get(dir)?.env });
async function withDatabase(dir: string): Promise<string> {
  databases.set(dir, await createTestDatabase(dir));
  return dir;
}

interface ManagerProcess {
  child: ChildProcess;
  lines: string[];
  url: string;
  stop(): Promise<number | null>;
}

function startManagerProcess(dir: string, extra: string[] = []): Promise<ManagerProcess> {
  const child = spawn(process.execPath, [BIN, 'manager', '--data', dir, '--port', '0', ...extra], { cwd: ROOT, env: cliEnv(envOf(dir)), stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let err = '';
  let buffered = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      buffered += c;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      lines.push(...parts);
      if (lines.length > 0) {
        resolve({
          child,
          lines,
          url: lines[0]!,
          stop: async () => {
            if (child.exitCode === null) child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    void exited.then((code) => reject(new Error(`manager exited (${code}) before printing its URL: ${err}`)));
  });
}

async function post(url: string, path: string, input: unknown, token?: string): Promise<{ status: number; body: { result?: { data: Record<string, unknown> } } }> {
  const res = await fetch(`${url}/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(input),
  });
  return { status: res.status, body: (await res.json()) as { result?: { data: Record<string, unknown> } } };
}

/** What an attacker with the database does: open it, drop the guards, write SQL. */
function tamper(dir: string, fn: (db: RawSql) => Promise<void>): Promise<void> {
  const database = databases.get(dir);
  if (!database) throw new Error(`no database for ${dir}`);
  return withRawSql(database.target, async (db) => {
    await db.dropAuditGuards();
    await fn(db);
  });
}

describe(`autoclaw manager, users and audit (${testEngine()})`, () => {
  let root: string;
  let dir: string;

  beforeAll(async () => {
    ensureBundle();
    root = mkdtempSync(join(tmpdir(), 'autoclaw-mcli-'));
    dir = await withDatabase(join(root, 'manager'));
  });
  afterAll(async () => {
    // Instances provisioned at sign-up outlive their manager by design.
    killGatewaysUnder(root);
    for (const database of databases.values()) await database.drop();
    rmSync(root, { recursive: true, force: true });
  });

  it('manager on a fresh directory prints its URL, then the one-time setup link', async () => {
    const fresh = await withDatabase(join(root, 'fresh'));
    const m = await startManagerProcess(fresh, ['--signup', 'invite']);
    try {
      expect(m.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await expect.poll(() => m.lines.length).toBeGreaterThanOrEqual(3);
      const link = m.lines[2]!;
      expect(link).toMatch(new RegExp(`^${m.url}/setup\\?token=stp_[A-Za-z0-9_-]{43}$`));
      const token = new URL(link).searchParams.get('token');
      const setup = await post(m.url, 'auth.completeSetup', { token, email: 'owner@example.com', password: PW });
      expect(setup.body.result?.data).toMatchObject({ user: { role: 'owner' } });
      expect((await post(m.url, 'auth.completeSetup', { token, email: 'again@example.com', password: PW })).status).toBe(409);
    } finally {
      expect(await m.stop()).toBe(0);
      // The owner's instance was provisioned at setup; its gateway outlives the manager by design.
      killGateways(fresh);
    }
    expect(existsSync(managerRuntimePath(fresh))).toBe(false);
  });

  it('users create works without a manager; bad input is a usage error', async () => {
    const made = await runCli(['users', 'create', '--data', dir, '--email', 'Owner@Example.com'], { input: `${PW}\n`, env: envOf(dir) });
    expect(made.stderr).toBe('');
    expect(made).toMatchObject({ code: 0, stdout: expect.stringMatching(/^created owner owner@example\.com \(id [A-Za-z0-9_-]+\)\n$/) });
    expect((await runCli(['users', 'create', '--data', dir, '--email', 'x@example.com'], { input: 'short', env: envOf(dir) })).code).toBe(2);
    expect((await runCli(['users', 'create', '--data', dir, '--email', 'not-an-email'], { input: PW, env: envOf(dir) })).code).toBe(2);
    expect((await runCli(['users', 'create', '--data', dir], { input: PW, env: envOf(dir) })).code).toBe(2);
    expect((await runCli(['users', 'delete', '--data', dir, '--email', 'x@example.com'], { input: PW, env: envOf(dir) })).code).toBe(2);
    const dup = await runCli(['users', 'create', '--data', dir, '--email', 'owner@example.com'], { input: PW, env: envOf(dir) });
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/already exists/);
    expect(await runCli(['audit', 'verify', '--data', dir], { env: envOf(dir) })).toMatchObject({ code: 0, stdout: expect.stringMatching(/^audit log intact: 1 entries/) });
  });

  it('with the manager running, users commands go through it (sessions end at once)', async () => {
    const m = await startManagerProcess(dir);
    try {
      expect(m.lines).toEqual([m.url]);
      // Proof that the command went through the manager: without its key file, a
      // direct write would have had to make a new key (and sign with it).
      renameSync(managerKeyPath(dir), `${managerKeyPath(dir)}.away`);
      const member = await runCli(['users', 'create', '--data', dir, '--email', 'member@example.com'], { input: PW, env: envOf(dir) });
      expect(existsSync(managerKeyPath(dir))).toBe(false);
      renameSync(`${managerKeyPath(dir)}.away`, managerKeyPath(dir));
      expect(member).toMatchObject({ code: 0, stdout: expect.stringMatching(/^created member member@example\.com/) });
      const signedIn = await post(m.url, 'auth.signIn', { email: 'member@example.com', password: PW });
      const token = signedIn.body.result?.data['token'] as string;
      expect((await fetch(`${m.url}/trpc/auth.me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);

      const reset = await runCli(['users', 'reset-password', '--data', dir, '--email', 'member@example.com'], { input: 'a brand new password\n', env: envOf(dir) });
      expect(reset).toMatchObject({ code: 0, stdout: 'password reset for member@example.com; every session of this account was signed out\n' });
      expect((await fetch(`${m.url}/trpc/auth.me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
      expect((await post(m.url, 'auth.signIn', { email: 'member@example.com', password: 'a brand new password' })).status).toBe(200);
      const missing = await runCli(['users', 'reset-password', '--data', dir, '--email', 'nobody@example.com'], { input: PW, env: envOf(dir) });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/no account with the email nobody@example.com/);
      // setup, member created, member's instance provisioned at sign-up, reset, sign-in.
      expect(await runCli(['audit', 'verify', '--data', dir], { env: envOf(dir) })).toMatchObject({ code: 0, stdout: expect.stringMatching(/^audit log intact: 6 entries/) });
    } finally {
      expect(await m.stop()).toBe(0);
      // The member's gateway outlives the manager by design; this test is done with it.
      killGateways(dir);
    }
  });

  describe('audit verify catches tampering', () => {
    const copies: string[] = [];
    /** A copy of the manager's state: its data directory, and its database (the SQLite file is in the directory). */
    async function copy(name: string): Promise<string> {
      const to = join(root, name);
      cpSync(dir, to, { recursive: true });
      databases.set(to, await copyTestDatabase(databases.get(dir)!, to));
      copies.push(to);
      return to;
    }

    async function expectCaught(target: string, firstBad: number, problem: RegExp): Promise<void> {
      const res = await runCli(['audit', 'verify', '--data', target], { env: envOf(target) });
      expect(res.code).toBe(1);
      expect(res.stdout).toMatch(problem);
      expect(res.stdout).toContain(`first bad entry: ${firstBad}\n`);
    }

    it('an edited field', async () => {
      const d = await copy('edited');
      await tamper(d, (db) => db.run("UPDATE audit_log SET target = 'someone@else.com' WHERE seq = 2"));
      await expectCaught(d, 2, /entry 2 was edited/);
    });

    it('reordered entries', async () => {
      const d = await copy('reordered');
      await tamper(d, async (db) => {
        await db.run('UPDATE audit_log SET seq = 99 WHERE seq = 2');
        await db.run('UPDATE audit_log SET seq = 2 WHERE seq = 3');
        await db.run('UPDATE audit_log SET seq = 3 WHERE seq = 99');
      });
      await expectCaught(d, 2, /reordered or removed/);
    });

    it('a removed entry', async () => {
      const d = await copy('removed');
      await tamper(d, (db) => db.run('DELETE FROM audit_log WHERE seq = 3'));
      await expectCaught(d, 3, /entry 3 is missing/);
    });

    it('a truncated log', async () => {
      const d = await copy('truncated');
      await tamper(d, (db) => db.run('DELETE FROM audit_log WHERE seq >= 4'));
      await expectCaught(d, 4, /truncated/);
    });

    it('a chain recomputed without the key', async () => {
      const d = await copy('rechained');
      const forger = generateKeyPairSync('ed25519').privateKey;
      let head = { count: 0, hash: '' };
      await tamper(d, async (db) => {
        const rows = await db.all<Record<string, string | number | null>>('SELECT * FROM audit_log ORDER BY seq');
        let prev = rows[0]!['hash'] as string;
        for (const row of rows.slice(1)) {
          const details = { ...(JSON.parse(row['details'] as string) as Record<string, unknown>), ...(row['seq'] === 2 ? { remote: '6.6.6.6' } : {}) };
          const fields = { seq: row['seq'] as number, at: row['at'] as number, actor: row['actor'] as string, action: row['action'] as string, target: row['target'] as string | null, details, prevHash: prev };
          const hash = entryHash(fields);
          await db.run(
            'UPDATE audit_log SET details = ?, prev_hash = ?, hash = ?, signature = ? WHERE seq = ?',
            JSON.stringify(details), prev, hash, signWithManagerKey(forger, `autoclaw-audit-entry/v1\n${fields.seq}\n${hash}`), fields.seq,
          );
          prev = hash;
          head = { count: fields.seq, hash };
        }
      });
      writeHeadFile(auditHeadPath(d), { ...head, at: 0 }, (p) => signWithManagerKey(forger, p));
      await expectCaught(d, 2, /not signed by the manager's key/);
    });

    it('a verifier with another public key, and --json', async () => {
      const stranger = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64url');
      expect((await runCli(['audit', 'verify', '--data', dir, `--public-key=${stranger}`], { env: envOf(dir) })).code).toBe(1);
      expect((await runCli(['audit', 'verify', '--data', dir, '--public-key', 'nope'], { env: envOf(dir) })).code).toBe(1);
      const json = await runCli(['audit', 'verify', '--data', dir, '--json'], { env: envOf(dir) });
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, count: 6, signedCount: 6, firstBadSeq: null, problem: null });
      expect((await runCli(['audit', 'verify', '--data', join(root, 'nothing-here')], { env: envOf(join(root, 'nothing-here')) })).code).toBe(1);
    });

    it('a restored older database with its audit-head.json: verify names the rollback (the anchor kept with the master key is ahead) — issue 8, item 6', async () => {
      const d = await copy('rolled-back');
      // The backup: the database and the head file as they are now.
      const backup = join(root, 'backup');
      mkdirSync(backup);
      copyFileSync(auditHeadPath(d), join(backup, 'audit-head.json'));
      const snapshot = testEngine() === 'sqlite' ? null : await copyTestDatabase(databases.get(d)!, backup);
      if (!snapshot) for (const f of ['manager.db', 'manager.db-wal']) if (existsSync(join(d, f))) copyFileSync(join(d, f), join(backup, f));
      const made = await runCli(['users', 'create', '--data', d, '--email', 'later@example.com'], { input: `${PW}\n`, env: envOf(d) });
      expect(made.code).toBe(0);
      expect(await runCli(['audit', 'verify', '--data', d], { env: envOf(d) })).toMatchObject({ code: 0, stdout: expect.stringMatching(/^audit log intact: 7 entries/) });
      // Restored: the older database (and its head file) put back.
      copyFileSync(join(backup, 'audit-head.json'), auditHeadPath(d));
      if (snapshot) databases.set(d, snapshot);
      else {
        rmSync(join(d, 'manager.db-wal'), { force: true });
        for (const f of ['manager.db', 'manager.db-wal']) if (existsSync(join(backup, f))) copyFileSync(join(backup, f), join(d, f));
      }
      const res = await runCli(['audit', 'verify', '--data', d], { env: envOf(d) });
      expect(res.code).toBe(1);
      expect(res.stdout).toMatch(/audit log NOT intact: the log was rolled back: the anchor kept with the master key .*audit-anchor\.json\) vouches for 7 entries, the log has 6/);
      expect(res.stdout).toContain('first bad entry: 7\n');
    });
  });
});
