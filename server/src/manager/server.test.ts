/**
 * Starting and stopping the manager: HTTPS with a self-signed certificate
 * made here by openssl, the CLI's certificate pinning, one manager per data
 * directory, the runtime file, and a stop that leaves nothing listening.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { AppError } from '@autoclaw/shared';
import { silentLogger } from './gateway-parts';
import { findLiveManager, managerAnswers, operatorClient } from './operator-client';
import { managerRuntimePath } from './paths';
import { createTestDatabase, testEngine } from './db/test-db';
import { findRunningManager, writeManagerRuntime } from './runtime-file';
import { startManager } from './server';
import { startTestManager, testConfig } from './test-kit';

function selfSigned(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'ignore' });
  return { cert, key };
}

function httpsJson(url: string, ca: Buffer): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    }).on('error', reject);
  });
}

describe('the manager over HTTPS', () => {
  let certs: string;
  let tls: { cert: string; key: string };
  let other: { cert: string; key: string };
  let t: Awaited<ReturnType<typeof startTestManager>>;

  beforeAll(async () => {
    certs = mkdtempSync(join(tmpdir(), 'autoclaw-tls-'));
    tls = selfSigned(certs, 'manager');
    other = selfSigned(certs, 'other');
    t = await startTestManager({ config: { tls: { certPath: tls.cert, keyPath: tls.key } } });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(certs, { recursive: true, force: true });
  });

  it('serves HTTPS and WSS with the given certificate', async () => {
    expect(t.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(tls.cert);
    expect(await httpsJson(`${t.url}/healthz`, ca)).toMatchObject({ status: 200, body: { service: 'autoclaw-manager' } });
    expect(await httpsJson(`${t.url}/trpc/auth.setupStatus`, ca)).toMatchObject({ body: { result: { data: { open: true } } } });
    // Its own https origin is allowed, the http one is not.
    const ws = new WebSocket(`${t.url.replace('https', 'wss')}/trpc`, { ca, origin: t.url });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.close();
    const refused = new WebSocket(`${t.url.replace('https', 'wss')}/trpc`, { ca, origin: t.url.replace('https', 'http') });
    expect(await new Promise((resolve) => refused.once('unexpected-response', (_q, res) => resolve(res.statusCode)).once('error', () => undefined))).toBe(403);
    refused.terminate();
    // An untrusting client refuses the self-signed certificate.
    await expect(fetch(`${t.url}/healthz`)).rejects.toThrow();
  });

  it('the CLI finds it and pins exactly its certificate', async () => {
    const runtime = await findLiveManager(t.dir);
    expect(runtime).toMatchObject({ url: t.url, tlsCertPath: tls.cert });
    const created = await operatorClient(t.dir, runtime!).mutation<{ role: string }>('operator.createUser', { email: 'a@example.com', password: 'correct horse battery' });
    expect(created.role).toBe('owner');
    const impostor = { ...runtime!, tlsCertPath: other.cert };
    expect(await managerAnswers(impostor)).toBe(false);
    await expect(operatorClient(t.dir, impostor).query('operator.verifyAudit')).rejects.toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(/does not present the manager's certificate/) });
  });

  it('refuses unreadable or mismatched TLS files clearly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'autoclaw-mgr-'));
    try {
      await expect(startManager(testConfig(dir, { tls: { certPath: join(certs, 'nope.crt'), keyPath: tls.key } }), { logger: silentLogger, keychain: null })).rejects.toMatchObject({
        code: 'NOT_FOUND',
        message: expect.stringMatching(/cannot read the TLS certificate/),
      });
      await expect(startManager(testConfig(dir, { tls: { certPath: tls.cert, keyPath: other.key } }), { logger: silentLogger, keychain: null })).rejects.toBeInstanceOf(AppError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe(`starting and stopping (${testEngine()})`, () => {
  it('one manager per data directory on SQLite, several replicas on PostgreSQL; the runtime file goes on close, and nothing listens after', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'autoclaw-mgr-'));
    const database = await createTestDatabase(dir);
    const t = await startTestManager({ dir, database });
    try {
      expect(t.manager.setupLink).toMatch(new RegExp(`^${t.url}/setup\\?token=stp_[A-Za-z0-9_-]{43}$`));
      expect(t.manager.cluster.leader()).not.toBeNull();
      const second = () => startManager(testConfig(dir, { database: database.target }), { logger: silentLogger, keychain: null, provisionOnSignUp: false, rendererDir: join(dir, 'none') });
      if (testEngine() === 'sqlite') {
        await expect(second()).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/already running/) });
        // Even without its runtime file: the leader lease names a live manager process on this machine.
        const file = readFileSync(managerRuntimePath(dir));
        rmSync(managerRuntimePath(dir));
        await expect(second()).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/SQLite serves one manager — run several replicas with --database postgres/) });
        writeFileSync(managerRuntimePath(dir), file);
      } else {
        // A second replica on the same database and data directory: it serves, the first one leads.
        const replica = await second();
        expect(replica.cluster.leader()).toBeNull();
        expect(await (await fetch(`${replica.url}/healthz`)).json()).toMatchObject({ service: 'autoclaw-manager' });
        expect(findRunningManager(dir)).not.toBeNull();
        await replica.close();
      }
      const runtime = findRunningManager(dir)!;
      await t.setupOwner();
      await t.close();
      expect(findRunningManager(dir)).toBeNull();
      expect(await managerAnswers(runtime, 500)).toBe(false);
      // A restart with an account already there prints no setup link and keeps the data.
      const again = await startTestManager({ dir, database });
      expect(again.manager.setupLink).toBeNull();
      expect(await again.manager.services.accounts.userCount()).toBe(1);
      await again.close();
    } finally {
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ignores a stale runtime file (dead pid)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'autoclaw-mgr-'));
    const database = await createTestDatabase(dir);
    try {
      const first = await startTestManager({ dir, database });
      const runtime = findRunningManager(dir)!;
      await first.close();
      writeManagerRuntime(dir, { ...runtime, pid: 2 ** 22 + 12_345 });
      expect(await findLiveManager(dir)).toBeNull();
      const second = await startTestManager({ dir, database });
      expect(findRunningManager(dir)?.pid).toBe(process.pid);
      await second.close();
    } finally {
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
