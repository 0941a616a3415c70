/**
 * Three manager replicas on PostgreSQL (issue 13, part 2), as an operator
 * runs them: real `autoclaw manager` processes from server/bin sharing one
 * database and one data directory, started at once (one of them migrates).
 * Sign in through one, pair through another, supervise from the leader;
 * `kill -9` the leader and, meanwhile, the instance's gateway: another
 * replica leads within 10 s, the instance is restarted once — not twice —
 * and the audit chain verifies. Only PostgreSQL can have several replicas,
 * so this file runs in the `postgres` test project only.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device, Instance } from '@autoclaw/shared';
import { BIN, cliEnv, ensureBundle, ROOT, runCli } from '../../cli/cli-harness';
import { generateDeviceKey, signPayload } from '../../security';
import { createTestDatabase, withRawSql } from '../db/test-db';
import type { TestDatabase } from '../db/test-db';
import { instanceDir } from '../drivers/local/instance-files';
import { killGateways, processesOnData, waitFor } from '../drivers/local/test-support';
import { pairWithTicket } from '../instances';

const PW = 'correct horse battery';

interface Replica {
  child: ChildProcess;
  pid: number;
  url: string;
  logs: () => Array<Record<string, unknown>>;
  exited: Promise<unknown>;
}

function startReplica(dir: string, env: Record<string, string>): Promise<Replica> {
  const child = spawn(process.execPath, [BIN, 'manager', '--data', dir, '--port', '0'], { cwd: ROOT, env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const logs = () =>
    err
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').once('data', (c: string) => resolve({ child, pid: child.pid as number, url: c.split('\n')[0] ?? '', logs, exited }));
    child.once('exit', (code) => reject(new Error(`manager exited (${code}): ${err}`)));
  });
}

async function trpc<T>(url: string, method: 'GET' | 'POST', path: string, input?: unknown, token?: string): Promise<T> {
  const qs = method === 'GET' && input !== undefined ? `?input=${encodeURIComponent(JSON.stringify(input))}` : '';
  const res = await fetch(`${url}/trpc/${path}${qs}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(method === 'POST' ? { body: JSON.stringify(input ?? null) } : {}),
  });
  const body = (await res.json()) as { result?: { data: T }; error?: unknown };
  if (!body.result) throw new Error(`${path} on ${url}: ${JSON.stringify(body.error)}`);
  return body.result.data;
}


describe('three manager replicas on PostgreSQL', () => {
  let dir: string;
  let database: TestDatabase;
  let env: Record<string, string>;
  const replicas: Replica[] = [];

  beforeAll(async () => {
    ensureBundle();
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-replicas-'));
    database = await createTestDatabase(dir);
    env = { AUTOCLAW_MASTER_KEY_STORE: 'file', ...database.env };
  });
  afterAll(async () => {
    for (const r of replicas) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
    await Promise.all(replicas.map((r) => r.exited));
    killGateways(dir);
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const leaderLease = () =>
    withRawSql(database.target, async (db) => (await db.all<{ holder: string; token: number; expires_at: number }>("SELECT holder, token, expires_at FROM leases WHERE name = 'leader'"))[0]);
  const pidOfHolder = (holder: string) => Number(holder.split('/')[1]);

  it('any replica serves; the leader supervises; kill -9 of the leader: another leads within 10 s, the instance killed meanwhile is restarted once, the audit chain verifies', async () => {
    // Three at once: one of them migrates the empty database, the others wait for its lock.
    replicas.push(...(await Promise.all([0, 1, 2].map(() => startReplica(dir, env)))));
    const lease = await waitFor('a leader', leaderLease);
    const leader = replicas.find((r) => r.pid === pidOfHolder(lease.holder));
    if (!leader) throw new Error(`the leader ${lease.holder} is none of the replicas`);
    const [signInVia, pairVia] = replicas.filter((r) => r !== leader) as [Replica, Replica];

    // The owner, made through whichever replica the CLI finds; their instance is provisioned at once.
    const made = await runCli(['users', 'create', '--data', dir, '--email', 'owner@example.com'], { input: `${PW}\n`, env });
    expect(made).toMatchObject({ code: 0, stdout: expect.stringMatching(/^created owner owner@example\.com/) });

    // Sign in through one replica…
    const { token } = await trpc<{ token: string }>(signInVia.url, 'POST', 'auth.signIn', { email: 'owner@example.com', password: PW });
    // …the session works through another (it is in the database, not in a process).
    const instance = await waitFor(
      'the instance to run',
      async () => {
        const mine = await trpc<Instance | null>(pairVia.url, 'GET', 'instances.mine', undefined, token);
        return mine?.state === 'running' ? mine : null;
      },
      30_000,
    );
    // Pair through that other replica; the leader lists the device.
    const key = generateDeviceKey();
    const { ticket, gatewayUrl } = await trpc<{ ticket: string; gatewayUrl: string }>(pairVia.url, 'POST', 'instances.pairDevice', { instanceId: instance.id, publicKey: key.publicKey, deviceName: 'laptop' }, token);
    await pairWithTicket(gatewayUrl, ticket, { publicKey: key.publicKey, sign: (p) => signPayload(key.privateKey, p) });
    const devices = await trpc<Device[]>(leader.url, 'GET', 'instances.devices', { instanceId: instance.id }, token);
    expect(devices.map((d) => d.id)).toContain(key.deviceId);

    // Supervised from the leader: a gateway killed with -9 is back.
    process.kill(instance.pid as number, 'SIGKILL');
    const back = await waitFor(
      'the supervisor to restart it',
      async () => {
        const mine = await trpc<Instance | null>(signInVia.url, 'GET', 'instances.mine', undefined, token);
        return mine?.state === 'running' && mine.pid !== instance.pid ? mine : null;
      },
      30_000,
    );

    // kill -9 of the leader — and, meanwhile, of the gateway.
    const lastEvent = await withRawSql(database.target, async (db) => (await db.all<{ id: number }>('SELECT max(id) AS id FROM instance_events'))[0]?.id ?? 0);
    const killedAt = performance.now();
    leader.child.kill('SIGKILL');
    process.kill(back.pid as number, 'SIGKILL');
    const next = await waitFor(
      'another replica to lead',
      async () => {
        const now = await leaderLease();
        return now && now.holder !== lease.holder && now.token > lease.token ? now : null;
      },
      20_000,
      50,
    );
    const failoverMs = performance.now() - killedAt;
    console.log(`manager.failover_ms (leader killed → new leader) ${Math.round(failoverMs)}`);
    expect(failoverMs).toBeLessThan(10_000);
    const newLeader = replicas.find((r) => r.pid === pidOfHolder(next.holder));
    expect([signInVia, pairVia]).toContain(newLeader);

    // The new leader settles every instance: the killed gateway is restarted — once.
    const again = await waitFor(
      'the instance to run again',
      async () => {
        const mine = await trpc<Instance | null>(newLeader!.url, 'GET', 'instances.mine', undefined, token);
        return mine?.state === 'running' && mine.pid !== back.pid ? mine : null;
      },
      30_000,
    );
    await waitFor('the new leader to finish its recovery', () => newLeader!.logs().some((l) => l['msg'] === 'instances recovered'), 20_000);
    const after = await withRawSql(database.target, (db) =>
      db.all<{ kind: string; to_state: string | null; message: string }>('SELECT kind, to_state, message FROM instance_events WHERE instance_id = ? AND id > ? ORDER BY id', instance.id, lastEvent),
    );
    expect(after.filter((e) => e.to_state === 'starting')).toHaveLength(1);
    // One gateway on the instance's data (a restart may take a warm standby, whose command line does not name the instance).
    expect(processesOnData(instanceDir(dir, instance.id))).toEqual([again.pid]);
    // The other follower never acted: it did not lead.
    const bystander = [signInVia, pairVia].find((r) => r !== newLeader)!;
    expect(bystander.logs().some((l) => l['msg'] === 'leader now')).toBe(false);

    // Still any replica serves (the session, the devices), and the one audit chain verifies.
    expect((await trpc<Device[]>(bystander.url, 'GET', 'instances.devices', { instanceId: instance.id }, token)).map((d) => d.id)).toContain(key.deviceId);
    const verified = await runCli(['audit', 'verify', '--data', dir], { env });
    expect(verified).toMatchObject({ code: 0, stdout: expect.stringMatching(/^audit log intact: \d+ entries/) });
  }, 180_000);
});
