/**
 * Billing's usage pull on a real manager and a real gateway (local driver):
 * the leader pulls the instance's usage over the gateway link into the
 * owner's billing period, once; the plan's caps reach the gateway the same
 * way.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../store';
import { instanceDir } from '../drivers/local/instance-files';
import { bundleGatewayCommand, killGateways, waitFor } from '../drivers/local/test-support';
import { startTestManager } from '../test-kit';
import type { TestManager } from '../test-kit';

describe('billing pulls usage from the gateways', () => {
  let t: TestManager;
  let dispose: () => void;
  beforeAll(async () => {
    const bundle = await bundleGatewayCommand();
    dispose = bundle.dispose;
    t = await startTestManager({ options: { instances: { localDriver: { command: bundle.command } }, billing: { syncEveryMs: 100, pageSize: 2 } } });
  });
  afterAll(async () => {
    killGateways(t.dir);
    await t.close();
    dispose();
  });

  it("counts the instance's calls into the owner's period once, however many rounds run; plan caps reach the gateway", async () => {
    const instances = t.manager.services.instances!;
    const billing = t.manager.services.billing!;
    const created = await instances.provision('ann@example.com');
    expect(created.state).toBe('running');
    // Calls the gateway made (written beside the running gateway, as its turns would).
    const gateway = openStore({ path: join(instanceDir(t.dir, created.id), 'gateway.db') });
    try {
      const session = gateway.createSession({ name: 'billed' });
      for (let i = 0; i < 5; i++) {
        gateway.recordUsage({
          sessionId: session.id,
          messageId: null,
          provider: 'anthropic',
          model: 'claude-sonnet-4-6',
          usage: { inputTokens: 100, outputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0 },
          costMicros: 1_000,
        });
      }
    } finally {
      gateway.close();
    }
    const periods = await waitFor('usage pulled', async () => {
      const p = await billing.usage.periods('ann@example.com');
      return p[0]?.calls === 5 ? p : null;
    });
    expect(periods).toEqual([expect.objectContaining({ provider: 'anthropic', model: 'claude-sonnet-4-6', calls: 5, inputTokens: 500, outputTokens: 50, costMicros: 5_000, unpricedCalls: 0 })]);
    // Rounds keep running every 100 ms: still once.
    const cursor = await billing.usage.cursor(created.id);
    await billing.usage.syncAll();
    await billing.usage.syncAll();
    expect(await billing.usage.cursor(created.id)).toBe(cursor);
    expect((await billing.usage.periods('ann@example.com'))[0]?.calls).toBe(5);

    const plan = await instances.setPlanCaps(created.id, { dailyMicros: 0, monthlyMicros: 2_000_000, reason: 'Your credits ran out.' });
    expect(plan).toMatchObject({ dailyMicros: 0, monthlyMicros: 2_000_000, reason: 'Your credits ran out.' });
    const check = openStore({ path: join(instanceDir(t.dir, created.id), 'gateway.db') });
    try {
      expect(check.budgetStatus().plan).toMatchObject({ dailyMicros: 0, monthlyMicros: 2_000_000 });
      expect(check.listNotices({ limit: 5 })[0]).toMatchObject({ kind: 'budget', level: 'error', title: 'Answers are paused by your plan' });
    } finally {
      check.close();
    }
  });
});
