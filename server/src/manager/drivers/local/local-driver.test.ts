/**
 * The local driver against real gateway processes: the data key arrives over
 * fd 3 (no data.key file, nothing in argv or the environment), a restarted
 * manager re-adopts the same process, stop/start keep the port, a gateway
 * that cannot start reports its last log lines, destroy removes everything.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dataKeyPath, databasePath, readRuntimeFile } from '../../../gateway';
import type { InstanceSpec } from '../types';
import { instanceDir, lastLogLines, rotateLog } from './instance-files';
import { createLocalDriver, withHeapCap } from './local-driver';
import type { LocalDriver } from './local-driver';
import { isProcessAlive } from './process-info';
import { bundleGatewayCommand, killGateways, testManagerKeys, waitDead } from './test-support';

let command: string[];
let dispose: () => void;
beforeAll(async () => {
  ({ command, dispose } = await bundleGatewayCommand());
});
afterAll(() => dispose());

describe('the local driver', () => {
  let dir: string;
  let driver: LocalDriver;
  const keys = testManagerKeys();
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-local-'));
    driver = createLocalDriver({ dataDir: dir, command });
  });
  afterEach(async () => {
    await driver.close();
    killGateways(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  function spec(instanceId: string, dataKey = randomBytes(32)): InstanceSpec {
    return {
      instanceId,
      ownerEmail: 'owner@example.com',
      dataKey,
      managerPublicKey: keys.publicKey,
      allowedOrigins: ['https://manager.example'],
      version: 'test',
      memoryLimitMb: 512,
      env: { AUTOCLAW_MODEL: 'anthropic:claude-test-model' },
    };
  }

  it('starts a detached gateway whose data key came through a pipe, never argv, env or a file', async () => {
    const key = randomBytes(32);
    const runtime = await driver.provision(spec('inst-fd', Buffer.from(key)));
    const pid = runtime.pid as number;
    expect(isProcessAlive(pid)).toBe(true);
    expect(runtime.url).toBe(`http://127.0.0.1:${runtime.port}`);
    expect(await (await fetch(`${runtime.url}/healthz`)).json()).toEqual({ ok: true, instanceId: 'inst-fd' });

    const gwDir = instanceDir(dir, 'inst-fd');
    expect(existsSync(dataKeyPath(gwDir))).toBe(false);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`);
    const environ = readFileSync(`/proc/${pid}/environ`);
    for (const form of [key, Buffer.from(key.toString('hex')), Buffer.from(key.toString('base64')), Buffer.from(key.toString('base64url'))]) {
      expect(cmdline.includes(form)).toBe(false);
      expect(environ.includes(form)).toBe(false);
    }
    expect(cmdline.toString().split('\0')).toEqual(expect.arrayContaining(['--data-key-fd', '3', '--instance-id', 'inst-fd', `--manager-key=${keys.publicKey}`]));
    // The per-instance memory cap: V8's old space at 3/4 of the instance's 512 MB limit.
    expect(environ.toString().split('\0')).toContain('NODE_OPTIONS=--max-old-space-size=384');
    // glibc's malloc settings of a gateway (read at process start, so they come through the environment).
    expect(environ.toString().split('\0')).toContain('MALLOC_MMAP_THRESHOLD_=32768');
    // Its own process group: a manager crash does not take it down.
    expect(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[2]).toBe(String(pid));

    const status = await driver.status('inst-fd');
    expect(status).toMatchObject({ alive: true, runtime: { pid, port: runtime.port } });
    expect(status.rssMb).toBeGreaterThan(10);
    expect(status.lastLogLines?.join('\n')).toContain('gateway listening');
    // The key on file nowhere in the instance's directory.
    expect(readFileSync(databasePath(gwDir)).includes(key)).toBe(false);
  });

  it('is re-adopted by a restarted manager (same pid), and not when the process is gone', async () => {
    const runtime = await driver.start(spec('inst-adopt'));
    const restarted = createLocalDriver({ dataDir: dir, command });
    expect(await restarted.adopt('inst-adopt', runtime)).toEqual(runtime);
    // Starting an instance that already runs adopts it instead of starting a second gateway.
    expect(await restarted.start(spec('inst-adopt'))).toEqual(runtime);

    process.kill(runtime.pid as number, 'SIGKILL');
    await waitDead(runtime.pid as number);
    expect(await restarted.adopt('inst-adopt', runtime)).toBeNull();
    expect((await restarted.status('inst-adopt')).alive).toBe(false);
    // Another instance's id on that port is not adopted either.
    expect(await restarted.adopt('inst-other', runtime)).toBeNull();
  });

  it('stops gracefully, starts again on the same port, and destroys the instance', async () => {
    const first = await driver.start(spec('inst-stop'));
    await driver.stop('inst-stop');
    expect(isProcessAlive(first.pid as number)).toBe(false);
    // A graceful stop: the gateway removed its runtime file itself.
    expect(readRuntimeFile(instanceDir(dir, 'inst-stop'))).toBeNull();
    expect((await driver.status('inst-stop')).alive).toBe(false);

    const second = await driver.start(spec('inst-stop'));
    expect(second.port).toBe(first.port);
    expect(second.pid).not.toBe(first.pid);
    await driver.destroy('inst-stop');
    expect(isProcessAlive(second.pid as number)).toBe(false);
    expect(existsSync(instanceDir(dir, 'inst-stop'))).toBe(false);
  });

  it('reports a gateway that cannot start with its last log lines', async () => {
    const gwDir = instanceDir(dir, 'inst-broken');
    await driver.start(spec('inst-broken'));
    await driver.stop('inst-broken');
    writeFileSync(databasePath(gwDir), 'not a database '.repeat(500));
    rmSync(`${databasePath(gwDir)}-wal`, { force: true });
    const failure = await driver.start(spec('inst-broken')).then(
      () => null,
      (err: unknown) => err as { message: string; details?: { logLines?: string[] } },
    );
    expect(failure?.message).toContain('exited during start-up');
    expect(failure?.details?.logLines?.join('\n')).toMatch(/database/i);
    expect((await driver.status('inst-broken')).alive).toBe(false);
  });

  it('caps the heap per instance, replacing a cap the base environment had', () => {
    expect(withHeapCap(undefined, 512)).toBe('--max-old-space-size=384');
    expect(withHeapCap('--enable-source-maps --max-old-space-size=4096', 200)).toBe('--enable-source-maps --max-old-space-size=150');
    expect(withHeapCap('', 32)).toBe('--max-old-space-size=64');
  });

  it('keeps the log below its size limit (copy, then truncate: the gateway appends on)', () => {
    const logDir = instanceDir(dir, 'inst-log');
    mkdirSync(logDir, { recursive: true });
    expect(rotateLog(logDir, 10)).toBe(false);
    writeFileSync(join(logDir, 'gateway.log'), `${'x'.repeat(1_000)}\n`.repeat(20));
    expect(rotateLog(logDir, 50_000)).toBe(false);
    expect(lastLogLines(logDir, 3)).toHaveLength(3);
    expect(rotateLog(logDir, 5_000)).toBe(true);
    expect(readFileSync(join(logDir, 'gateway.log'), 'utf8')).toBe('');
    expect(readFileSync(join(logDir, 'gateway.log.1'), 'utf8').length).toBe(20 * 1_001);
    expect(lastLogLines(logDir)).toEqual([]);
  });
});
