/**
 * The promise of the product: a new account's instance is provisioned by
 * itself and reaches running — the user never starts a server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleGatewayCommand, killGateways, waitFor } from '../drivers/local/test-support';
import { startTestManager } from '../test-kit';
import type { TestManager } from '../test-kit';

describe('provisioning at sign-up', () => {
  let t: TestManager;
  let dispose: () => void;
  beforeAll(async () => {
    const bundle = await bundleGatewayCommand();
    dispose = bundle.dispose;
    t = await startTestManager({
      config: { signup: 'open' },
      options: { provisionOnSignUp: true, instances: { localDriver: { command: bundle.command }, stopGatewaysOnClose: true } },
    });
  });
  afterAll(async () => {
    killGateways(t.dir);
    await t.close();
    dispose();
  });

  it("creates the owner's instance at setup and a new member's at sign-up, both reaching running", async () => {
    const { token } = await t.setupOwner('owner@example.com');
    const member = await t.client().auth.signUp.mutate({ email: 'member@example.com', password: 'correct horse battery staple' });
    for (const auth of [token, member.token]) {
      const api = t.client(auth);
      await waitFor('the instance to run', async () => (await api.instances.mine.query())?.state === 'running' || null, 20_000);
    }
    const owners = (await t.manager.services.instances!.list()).map((i) => i.owner).sort();
    expect(owners).toEqual(['member@example.com', 'owner@example.com']);
  });
});
