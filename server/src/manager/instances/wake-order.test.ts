/**
 * A wake's order of work: the gateway's start is asked for first and the
 * bookkeeping (the audit entry, `sleeping → starting`) is written while it
 * starts, so no client waits on those writes; `running`, with where the
 * gateway runs and the origins it was launched with, is written once it is
 * ready. A start that fails leaves the instance `failed` with the reason.
 * The driver here is a script (no process): it records what the database
 * said when it was asked to start, and holds the start until the test lets it go.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InstanceEvent } from '@autoclaw/shared';
import type { AuditAppend } from '../audit';
import { openManagerDb } from '../db';
import type { ManagerDb } from '../db';
import { createTestDatabase, testEngine } from '../db/test-db';
import type { TestDatabase } from '../db/test-db';
import type { InstanceDriver, InstanceRuntime, InstanceSpec } from '../drivers/types';
import { testManagerKeys } from '../drivers/local/test-support';
import { createInstanceService } from './service';

interface Script {
  log: string[];
  /** Lets the held start finish (or fail). */
  release(outcome: InstanceRuntime | Error): void;
  started: Promise<InstanceSpec>;
}

function scriptedDriver(seen: (what: string) => string): InstanceDriver & { script: Script } {
  const log: string[] = [];
  let release: (outcome: InstanceRuntime | Error) => void = () => {};
  let began: (spec: InstanceSpec) => void = () => {};
  const script: Script = {
    log,
    release: (o) => release(o),
    started: new Promise<InstanceSpec>((resolve) => {
      began = resolve;
    }),
  };
  let alive = false;
  return {
    kind: 'local',
    script,
    provision: () => Promise.reject(new Error('not used')),
    prepare: async () => undefined,
    async start(spec) {
      log.push(seen('driver.start'));
      const outcome = await new Promise<InstanceRuntime | Error>((resolve) => {
        release = resolve;
        began(spec);
      });
      if (outcome instanceof Error) throw outcome;
      alive = true;
      log.push('gateway ready');
      return outcome;
    },
    async stop() {
      alive = false;
      log.push('driver.stop');
    },
    destroy: async () => undefined,
    status: async () => ({ alive, runtime: null }),
    adopt: async () => null,
    waitForReady: async () => undefined,
    close: async () => undefined,
  };
}

describe(`a wake's order of work (${testEngine()})`, () => {
  let dir: string;
  let database: TestDatabase;
  let db: ManagerDb;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-wake-order-'));
    database = await createTestDatabase(dir);
    db = await openManagerDb(database.target);
  });
  afterEach(async () => {
    await db.close();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function setUp() {
    const audits: AuditAppend[] = [];
    // What was written when the driver was asked (at that very moment, before anything else ran).
    const driver = scriptedDriver((what) => `${what} (audits so far: ${audits.map((a) => a.action).join(',')})`);
    const service = await createInstanceService({
      db,
      driver,
      keys: testManagerKeys(),
      provisionAsleep: true,
      allowedOrigins: ['http://127.0.0.1:7000'],
      audit: {
        append: async (entry) => {
          audits.push(entry);
        },
      },
    });
    const id = (await service.provision('waker@example.com')).id;
    expect((await service.mustGet(id)).state).toBe('sleeping');
    return { service, driver, id, audits };
  }
  const moves = (events: InstanceEvent[]) => events.filter((e) => e.kind === 'transition').map((e) => `${e.from ?? '∅'}→${e.to}`);

  it('asks for the gateway before any write, records the wake while it starts, and writes running with its runtime and origins once ready', async () => {
    const { service, driver, id, audits } = await setUp();
    const woken = service.wake(id, 'a client (test)');
    const spec = await driver.script.started;
    expect(spec.instanceId).toBe(id);
    // The start was asked for before anything of the wake was written.
    expect(driver.script.log).toEqual(['driver.start (audits so far: instance.provision)']);
    // While the gateway starts, the wake is recorded: the audit entry and `starting`.
    await expect.poll(async () => (await service.mustGet(id)).state).toBe('starting');
    expect(audits.map((a) => a.action)).toEqual(['instance.provision', 'instance.wake']);
    expect(audits[1]?.details).toEqual({ why: 'a client (test)' });
    driver.script.release({ url: 'http://127.0.0.1:4321', pid: 4242, port: 4321 });
    const instance = await woken;
    expect(instance).toMatchObject({ state: 'running', url: 'http://127.0.0.1:4321', pid: 4242, port: 4321 });
    expect(moves(await service.events(id))).toEqual(['∅→provisioning', 'provisioning→sleeping', 'sleeping→starting', 'starting→running']);
    expect((await service.events(id)).find((e) => e.to === 'starting')?.message).toBe('woken: a client (test)');
    expect((await db.k.selectFrom('instances').select('origins').where('id', '=', id).executeTakeFirstOrThrow()).origins).toContain('http://127.0.0.1:7000');
  });

  it('a start that fails after the wake was recorded leaves the instance failed with the reason', async () => {
    const { service, driver, id } = await setUp();
    const woken = service.wake(id, 'a client (test)');
    await driver.script.started;
    await expect.poll(async () => (await service.mustGet(id)).state).toBe('starting');
    driver.script.release(new Error('the gateway exited during start-up (code 3)'));
    await expect(woken).rejects.toThrow(/code 3/);
    const failed = await service.mustGet(id);
    expect(failed.state).toBe('failed');
    expect(failed.lastError).toMatch(/^start: the gateway exited during start-up \(code 3\)/);
    expect(moves(await service.events(id))).toEqual(['∅→provisioning', 'provisioning→sleeping', 'sleeping→starting', 'starting→failed']);
  });
});
