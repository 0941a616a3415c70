/**
 * Warm standbys and the readiness signal, against real gateway processes.
 * Every driver here has fallback polls an hour apart, so a start that
 * finishes was signalled by the runtime file's watch event, never by a poll
 * interval running out (event order, no timing). A standby serves a start:
 * the instance's gateway is the standby's process (no new Node), it answers
 * as the instance, keeps its log in the instance's directory, is re-adopted
 * by a restarted manager and stopped like any gateway; close() lets waiting
 * standbys go.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readRuntimeFile, runtimeFilePath } from '../../../gateway';
import type { InstanceSpec } from '../types';
import { instanceDir, lastLogLines, readRecord } from './instance-files';
import { createLocalDriver } from './local-driver';
import type { LocalDriver } from './local-driver';
import { commandLineOf, isProcessAlive } from './process-info';
import { waitForRuntimeFile } from './runtime-signal';
import { bundleGatewayCommand, killGateways, killGatewaysUnder, testManagerKeys, waitDead, waitFor } from './test-support';

const AN_HOUR = () => 3_600_000;

/** As the gateway writes it: whole, renamed into place. */
function writeRuntimeFile(dir: string, info: { pid: number; port: number; url: string; startedAt: number }): void {
  const tmp = `${runtimeFilePath(dir)}.tmp`;
  writeFileSync(tmp, JSON.stringify(info));
  renameSync(tmp, runtimeFilePath(dir));
}

describe('the runtime file as the readiness signal', () => {
  it('a wait with hour-long polls ends when the file naming the pid is renamed into place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'autoclaw-signal-'));
    try {
      const waiting = waitForRuntimeFile(dir, 4242, { gaveUp: () => false, pollMs: AN_HOUR });
      // Another process's file first: not ours, the wait goes on.
      writeRuntimeFile(dir, { pid: 99_999_999, port: 1, url: 'http://127.0.0.1:1', startedAt: 1 });
      await new Promise((resolve) => setImmediate(resolve));
      writeRuntimeFile(dir, { pid: 4242, port: 2, url: 'http://127.0.0.1:2', startedAt: 2 });
      expect(await waiting).toMatchObject({ pid: 4242, port: 2 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const specOf = (instanceId: string, managerPublicKey: string): InstanceSpec => ({
  instanceId,
  ownerEmail: 'owner@example.com',
  dataKey: randomBytes(32),
  managerPublicKey,
  allowedOrigins: [],
  version: 'test',
  memoryLimitMb: 512,
  env: { AUTOCLAW_MODEL: 'anthropic:claude-test-model' },
});

let command: string[];
let dispose: () => void;
beforeAll(async () => {
  ({ command, dispose } = await bundleGatewayCommand());
});
afterAll(() => dispose());

describe('warm standbys (local driver)', () => {
  let dir: string;
  let driver: LocalDriver;
  const keys = testManagerKeys();
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-standby-'));
    driver = createLocalDriver({ dataDir: dir, command, standbys: 1, standbyRefillMs: 0, pollMs: AN_HOUR });
  });
  afterEach(async () => {
    await driver.close();
    killGateways(dir);
    killGatewaysUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  const spec = (instanceId: string) => specOf(instanceId, keys.publicKey);
  /** Live standby processes of this manager, waiting for an assignment. */
  const standbys = () =>
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .map(Number)
      .filter((pid) => {
        const args = commandLineOf(pid);
        return args !== null && args.includes('--standby') && args.some((a) => a.startsWith(join(dir, 'standby'))) && isProcessAlive(pid);
      });

  it('a start takes the waiting standby: the same process becomes the instance\'s gateway, answers as it, logs beside it, and is adopted and stopped as usual', async () => {
    const s = spec('inst-warm');
    const first = await driver.start(s);
    // The first start had no standby; one is made right after it.
    const [standbyPid] = await waitFor('a standby', () => (standbys().length === 1 ? standbys() : null), 30_000);
    expect(standbyPid).not.toBe(first.pid);
    await driver.stop('inst-warm', { graceMs: 5_000 });
    await waitDead(first.pid as number);

    const second = await driver.start(s);
    expect(second.pid).toBe(standbyPid);
    expect(await (await fetch(`${second.url}/healthz`)).json()).toEqual({ ok: true, instanceId: 'inst-warm' });
    const gwDir = instanceDir(dir, 'inst-warm');
    expect(readRecord(gwDir)).toMatchObject({ pid: standbyPid, standby: expect.stringMatching(/^sb-[0-9a-f]{12}$/) });
    expect(readRuntimeFile(gwDir)?.pid).toBe(standbyPid);
    // Its log is the instance's, after the earlier run's lines.
    const log = readFileSync(join(gwDir, 'gateway.log'), 'utf8');
    expect(log.split('gateway listening').length - 1).toBe(2);
    expect(lastLogLines(gwDir).join('\n')).toContain('gateway listening');
    expect(await driver.status('inst-warm')).toMatchObject({ alive: true, runtime: { pid: standbyPid } });

    // A restarted manager's driver adopts it (the record names the standby).
    const again = createLocalDriver({ dataDir: dir, command });
    try {
      expect(await again.adopt('inst-warm', null)).toMatchObject({ pid: standbyPid });
      await again.stop('inst-warm', { graceMs: 5_000 });
    } finally {
      await again.close();
    }
    await waitDead(standbyPid as number);
    expect((await driver.status('inst-warm')).alive).toBe(false);
  });

  it('a standby never passes for another instance\'s gateway, and close() lets waiting standbys go', async () => {
    await driver.start(spec('inst-a'));
    const [standbyPid] = await waitFor('a standby', () => (standbys().length === 1 ? standbys() : null), 30_000);
    // A record naming the standby's pid without naming it as the standby: not this instance's process.
    const other = instanceDir(dir, 'inst-b');
    mkdirSync(other, { recursive: true });
    writeRuntimeFile(other, { pid: standbyPid as number, port: 1, url: 'http://127.0.0.1:1', startedAt: 1 });
    expect((await driver.status('inst-b')).alive).toBe(false);
    await driver.close();
    await waitDead(standbyPid as number);
    expect(readdirSync(join(dir, 'standby'))).toEqual([]);
  });
});

describe('a standby warmed for one start (prewarm, the pool off)', () => {
  it('the next start of that build takes it, and no replacement follows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'autoclaw-prewarm-'));
    const driver = createLocalDriver({ dataDir: dir, command, standbys: 0, pollMs: AN_HOUR });
    const waiting = () => (existsSync(join(dir, 'standby')) ? readdirSync(join(dir, 'standby')) : []);
    try {
      const spec = specOf('inst-switch', testManagerKeys().publicKey);
      driver.prewarm?.(spec, 1);
      expect(waiting()).toHaveLength(1);
      // Assigned at once, while it still loads its code.
      const started = await driver.start(spec);
      // The standby's process became the instance's gateway: the record names it, and none waits any more.
      expect(readRecord(instanceDir(dir, 'inst-switch'))).toMatchObject({ pid: started.pid, standby: expect.stringMatching(/^sb-[0-9a-f]{12}$/) });
      expect(waiting()).toEqual([]);
      const health = (await (await fetch(`${started.url}/healthz`)).json()) as { instanceId?: string };
      expect(health.instanceId).toBe('inst-switch');
      // The pool is off: the start left no standby behind it.
      await driver.stop('inst-switch');
      expect(waiting()).toEqual([]);
    } finally {
      await driver.close();
      killGateways(dir);
      killGatewaysUnder(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
