/**
 * Billing's usage pull on a real manager and a real gateway (local driver):
 * the leader pulls the instance's usage over the gateway link into the
 * owner's billing period, once; the plan's caps reach the gateway the same
 * way.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../store';
import { startStripeApiServer } from '../../testing';
import type { StripeApiServer } from '../../testing';
import { instanceDir } from '../drivers/local/instance-files';
import { bundleGatewayCommand, killGateways, waitFor } from '../drivers/local/test-support';
import { startTestManager } from '../test-kit';
import type { TestManager } from '../test-kit';

describe('billing pulls usage from the gateways', () => {
  let t: TestManager;
  let dispose: () => void;
  let stripe: StripeApiServer;
  beforeAll(async () => {
    const bundle = await bundleGatewayCommand();
    dispose = bundle.dispose;
    stripe = await startStripeApiServer({ apiKey: 'sk_test_sync' });
    t = await startTestManager({
      config: { stripe: { apiKey: 'sk_test_sync', webhookSecret: 'whsec_sync', api: stripe.sdk }, credits: { marginBps: 1_000, monthlyReset: false } },
      options: { instances: { localDriver: { command: bundle.command } }, billing: { syncEveryMs: 100, pageSize: 2 } },
    });
  });
  afterAll(async () => {
    killGateways(t.dir);
    await t.close();
    await stripe.close();
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

  it('credits: usage is debited with the margin; used up, the gateway pauses answers and says why; a top-up resumes them', async () => {
    const BOB = 'bob@example.com';
    const instances = t.manager.services.instances!;
    const billing = t.manager.services.billing!;
    const created = await instances.provision(BOB);
    const hook = `${t.url}/webhooks/stripe`;
    const pay = async (cents: number) => {
      const { sessionId } = await billing.stripe!.topUp(BOB, cents, { successUrl: 'http://127.0.0.1/ok', cancelUrl: 'http://127.0.0.1/no' });
      const [completed] = stripe.pay(sessionId);
      expect((await stripe.deliver(hook, completed!, { secret: 'whsec_sync' })).status).toBe(200);
    };
    await pay(500); // $5
    const gatewayPath = join(instanceDir(t.dir, created.id), 'gateway.db');
    const gateway = openStore({ path: gatewayPath });
    try {
      const session = gateway.createSession({ name: 'expensive' });
      for (let i = 0; i < 3; i++) {
        gateway.recordUsage({ sessionId: session.id, messageId: null, provider: 'anthropic', model: 'claude-sonnet-4-6', usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 }, costMicros: 2_000_000 });
      }
    } finally {
      gateway.close();
    }
    // $6 of usage at a 10 % margin is $6.60 against $5 of credit.
    await waitFor('credits debited', async () => ((await billing.service.status(BOB)).paused ? true : null));
    expect(await billing.service.status(BOB)).toMatchObject({ enabled: true, creditMicros: 5_000_000 - 6_600_000, paused: true, marginBps: 1_000 });
    const paused = await waitFor('the gateway paused', async () => {
      const check = openStore({ path: gatewayPath });
      try {
        // The caps and then the notice: each is its own commit on the gateway.
        const plan = check.budgetStatus().plan;
        const notice = check.listNotices({ limit: 1 })[0];
        return plan.monthlyMicros === 0 && notice?.level === 'error' ? { plan, notice } : null;
      } finally {
        check.close();
      }
    });
    expect(paused.plan.reason).toContain('credits ran out');
    expect(paused.notice).toMatchObject({ kind: 'budget', level: 'error', title: 'Answers are paused by your plan', body: expect.stringContaining('top up on the Billing page') });

    await pay(1_000);
    expect(await billing.service.status(BOB)).toMatchObject({ creditMicros: 15_000_000 - 6_600_000, paused: false });
    const check = openStore({ path: gatewayPath });
    try {
      expect(check.budgetStatus().plan).toMatchObject({ dailyMicros: null, monthlyMicros: null, reason: null });
    } finally {
      check.close();
    }
  });
});
