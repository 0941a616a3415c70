/**
 * Two manager replicas on one PostgreSQL database: an instance used only
 * through the door of the replica that does NOT lead stays awake — the
 * leader's sleeper reads the last use that replica recorded in the database
 * — and falls asleep once nobody uses it. (HTTP requests are not clients
 * the gateway counts, so without the shared record the leader would see an
 * idle instance.) Only PostgreSQL can have several replicas.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '@autoclaw/shared';
import { createTestDatabase } from './db/test-db';
import type { TestDatabase } from './db/test-db';
import { bundleGatewayCommand, killGateways, waitFor } from './drivers/local/test-support';
import { startTestManager } from './test-kit';
import type { TestManager } from './test-kit';

const SLEEP_AFTER_MS = 1_500;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the door on several replicas (postgres)', () => {
  let dir: string;
  let database: TestDatabase;
  let dispose: () => void;
  const replicas: TestManager[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-door-replicas-'));
    database = await createTestDatabase(dir);
    const bundle = await bundleGatewayCommand();
    dispose = bundle.dispose;
    const options = {
      instances: { localDriver: { command: bundle.command }, idle: { sleepAfterMs: SLEEP_AFTER_MS, checkEveryMs: 3_600_000 } },
      doorActivityWriteEveryMs: 200,
    };
    // One after the other: the first migrates and leads.
    replicas.push(await startTestManager({ dir, database, options }));
    replicas.push(await startTestManager({ dir, database, options }));
  });
  afterAll(async () => {
    for (const r of replicas.reverse()) await r.close();
    killGateways(dir);
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
    dispose();
  });

  it('an instance used only through the non-leader\'s door does not fall asleep; unused, it does', async () => {
    const leader = await waitFor('a leader', () => replicas.find((r) => r.manager.cluster.leader() !== null) ?? null);
    const other = replicas.find((r) => r !== leader) as TestManager;
    const { token } = await other.setupOwner('busy@example.com');
    await other.client(token).instances.create.mutate();
    const instance = await waitFor('running', async () => {
      const mine: Instance | null = await other.client(token).instances.mine.query();
      return mine?.state === 'running' ? mine : null;
    }, 30_000);
    const state = async () => (await leader.manager.services.instances!.mustGet(instance.id)).state;
    const door = `${other.url}/i/${instance.id}/healthz`;

    // In use for three idle times, only through the other replica's door; the leader's sleeper looks each time.
    const until = performance.now() + 3 * SLEEP_AFTER_MS;
    let rounds = 0;
    while (performance.now() < until) {
      const res = await fetch(door, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      await leader.manager.sleepRound();
      rounds += 1;
      expect(await state()).toBe('running');
      await pause(250);
    }
    expect(rounds).toBeGreaterThan(3);

    // Nobody uses it: the leader puts it to sleep.
    await waitFor('asleep', async () => {
      await leader.manager.sleepRound();
      return (await state()) === 'sleeping';
    }, 20_000, 100);
  }, 90_000);
});
