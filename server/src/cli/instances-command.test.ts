/**
 * `autoclaw instances …` as operators script it, from the built bundle: with
 * no manager (straight on the data directory, gateways detached), then
 * through a running manager process that re-adopted those gateways, then
 * again without it after the manager was killed with -9.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '@autoclaw/shared';
import { isProcessAlive } from '../manager/drivers/local/process-info';
import { createTestDatabase, testEngine } from '../manager/db/test-db';
import type { TestDatabase } from '../manager/db/test-db';
import { killGateways, waitFor } from '../manager/drivers/local/test-support';
import { BIN, cliEnv, ensureBundle, ROOT, runCli } from './cli-harness';

let database: TestDatabase;
/** A file master key, and (on PostgreSQL) the test database in AUTOCLAW_DATABASE_URL. */
let ENV: Record<string, string> = { AUTOCLAW_MASTER_KEY_STORE: 'file' };

function startManagerProcess(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'manager', '--data', dir, '--port', '0'], { cwd: ROOT, env: cliEnv(ENV), stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').once('data', (c: string) => resolve({ child, url: c.split('\n')[0] ?? '' }));
    child.once('exit', (code) => reject(new Error(`manager exited (${code}): ${err}`)));
  });
}

async function list(dir: string): Promise<Instance[]> {
  const res = await runCli(['instances', 'list', '--data', dir, '--json'], { env: ENV });
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  return JSON.parse(res.stdout) as Instance[];
}

describe(`autoclaw instances (${testEngine()})`, () => {
  let dir: string;
  beforeAll(async () => {
    ensureBundle();
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-icli-'));
    database = await createTestDatabase(dir);
    ENV = { ...ENV, ...database.env };
    const made = await runCli(['users', 'create', '--data', dir, '--email', 'owner@example.com'], { input: 'correct horse battery\n', env: ENV });
    expect(made.code).toBe(0);
    await runCli(['users', 'create', '--data', dir, '--email', 'second@example.com'], { input: 'correct horse battery\n', env: ENV });
  });
  afterAll(async () => {
    killGateways(dir);
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  let id: string;
  let pid: number;

  it('works without a manager: create, list --json, stop, start; bad input is a usage error', async () => {
    const created = await runCli(['instances', 'create', '--data', dir, '--owner', 'Owner@Example.com', '--json'], { env: ENV });
    expect(created.code).toBe(0);
    const instance = JSON.parse(created.stdout) as Instance;
    expect(instance).toMatchObject({ owner: 'owner@example.com', state: 'running', driver: 'local' });
    id = instance.id;
    pid = instance.pid as number;
    // The gateway outlives the command that started it.
    expect(isProcessAlive(pid)).toBe(true);
    const listed = await list(dir);
    expect(listed).toEqual([expect.objectContaining({ id, owner: 'owner@example.com', state: 'running', pid, port: instance.port })]);

    expect((await runCli(['instances', 'create', '--data', dir, '--owner', 'owner@example.com'], { env: ENV })).stderr).toMatch(/already has an instance/);
    const nobody = await runCli(['instances', 'create', '--data', dir, '--owner', 'nobody@example.com'], { env: ENV });
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/no account nobody@example.com/);
    for (const args of [['create', '--data', dir], ['create', '--data', dir, '--owner', 'not-an-email'], ['stop', '--data', dir], ['explode', '--data', dir], ['list', '--data', dir, 'extra']]) {
      expect([args.join(' '), (await runCli(['instances', ...args], { env: ENV })).code]).toEqual([args.join(' '), 2]);
    }
    expect((await runCli(['instances', 'stop', '--data', dir, 'inst-unknown'], { env: ENV })).code).toBe(1);

    expect((await runCli(['instances', 'stop', '--data', dir, id], { env: ENV })).stdout).toBe(`${id} stopped (owner owner@example.com)\n`);
    expect(isProcessAlive(pid)).toBe(false);
    expect((await list(dir))[0]).toMatchObject({ state: 'stopped' });
    const started = await runCli(['instances', 'start', '--data', dir, id], { env: ENV });
    expect(started.stdout).toMatch(new RegExp(`^${id} running http://127\\.0\\.0\\.1:${instance.port} `));
    pid = (await list(dir))[0]?.pid as number;
    expect(isProcessAlive(pid)).toBe(true);
    // Many CLI processes, one after another: longer than one test usually takes on a busy machine.
  }, 120_000);

  it('goes through a running manager, which re-adopted the gateway and re-launched it for its own address; gateways outlive its kill -9', async () => {
    const m = await startManagerProcess(dir);
    try {
      // Re-adopted — then, since it was started with no manager around, re-launched (gracefully) to accept the manager's origin.
      const relaunched = await waitFor('the re-launch', async () => {
        const [i] = await list(dir);
        return i?.state === 'running' && i.pid !== pid ? i : null;
      }, 20_000);
      expect(relaunched).toMatchObject({ id, state: 'running', port: (await list(dir))[0]?.port });
      expect(isProcessAlive(pid)).toBe(false);
      pid = relaunched.pid as number;
      const second = await runCli(['instances', 'create', '--data', dir, '--owner', 'second@example.com', '--json'], { env: ENV });
      expect(second.code).toBe(0);
      const secondId = (JSON.parse(second.stdout) as Instance).id;
      expect((await runCli(['instances', 'stop', '--data', dir, id], { env: ENV })).code).toBe(0);
      expect(isProcessAlive(pid)).toBe(false);
      expect((await runCli(['instances', 'start', '--data', dir, id], { env: ENV })).code).toBe(0);
      const both = await list(dir);
      expect(both.map((i) => [i.id, i.state])).toEqual([[id, 'running'], [secondId, 'running']]);
      pid = both[0]?.pid as number;
      m.child.kill('SIGKILL');
      await waitFor('the manager to die', () => m.child.exitCode !== null || m.child.signalCode !== null);
      for (const i of both) expect(isProcessAlive(i.pid as number)).toBe(true);
    } finally {
      if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
    }
    // No manager any more: the CLI acts on the directory again.
    const deleted = await runCli(['instances', 'delete', '--data', dir, id], { env: ENV });
    expect(deleted).toMatchObject({ code: 0, stdout: `deleted ${id}\n` });
    expect(isProcessAlive(pid)).toBe(false);
    expect((await list(dir)).map((i) => i.owner)).toEqual(['second@example.com']);
    const audit = await runCli(['audit', 'verify', '--data', dir], { env: ENV });
    expect(audit.code).toBe(0);
  }, 120_000);
});
