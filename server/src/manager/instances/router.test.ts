/**
 * instances.* on a real manager with the local driver: a signed-in user
 * creates their instance and follows it to running over the WebSocket
 * (tracked events), pairs a device with a ticket, lists and revokes it,
 * stops and deletes the instance; nobody else can see or touch it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authPayload, SIGNIN_PROOF_NONCE } from '@autoclaw/shared';
import type { InstanceEvent } from '@autoclaw/shared';
import { generateDeviceKey, signPayload } from '../../security';
import { isProcessAlive } from '../drivers/local/process-info';
import { bundleGatewayCommand, killGateways, waitFor } from '../drivers/local/test-support';
import { startTestManager } from '../test-kit';
import type { TestManager } from '../test-kit';
import { pairWithTicket } from './gateway-link';

describe('instances over the manager API', () => {
  let t: TestManager;
  let dispose: () => void;
  let token: string;
  let otherToken: string;
  beforeAll(async () => {
    const bundle = await bundleGatewayCommand();
    dispose = bundle.dispose;
    t = await startTestManager({ options: { instances: { localDriver: { command: bundle.command } } } });
    token = (await t.setupOwner('owner@example.com')).token;
    await t.manager.services.accounts.createUser({ email: 'other@example.com', password: 'correct horse battery' });
    otherToken = (await t.client().auth.signIn.mutate({ email: 'other@example.com', password: 'correct horse battery' })).token;
  });
  afterAll(async () => {
    killGateways(t.dir);
    await t.close();
    dispose();
  });

  it('creates the instance and streams its events to running; resumes after lastEventId', async () => {
    const api = t.client(token);
    expect(await api.instances.mine.query()).toBeNull();
    const created = await api.instances.create.mutate();
    expect(created).toMatchObject({ owner: 'owner@example.com', state: 'provisioning' });
    expect((await api.instances.create.mutate()).id).toBe(created.id);

    const ws = t.wsClient(token);
    const seen: Array<{ id: string; data: InstanceEvent }> = [];
    await new Promise<void>((resolve, reject) => {
      const sub = ws.client.instances.events.subscribe(
        { instanceId: created.id },
        {
          onData: (e) => {
            seen.push({ id: e.id, data: e.data });
            if (e.data.to === 'running') {
              sub.unsubscribe();
              resolve();
            }
          },
          onError: reject,
        },
      );
    });
    expect(seen.filter((e) => e.data.kind === 'transition').map((e) => e.data.to)).toEqual(['provisioning', 'starting', 'running']);
    expect(seen.map((e) => e.id)).toEqual(seen.map((e) => String(e.data.id)));

    // Resuming after the second event yields the rest only.
    const resumed: InstanceEvent[] = [];
    await new Promise<void>((resolve, reject) => {
      const sub = ws.client.instances.events.subscribe(
        { instanceId: created.id, lastEventId: seen[1]?.id ?? null },
        {
          onData: (e) => {
            resumed.push(e.data);
            if (e.data.to === 'running') {
              sub.unsubscribe();
              resolve();
            }
          },
          onError: reject,
        },
      );
    });
    expect(resumed.map((e) => e.id)).toEqual(seen.slice(2).map((e) => e.data.id));
    await ws.close();
    expect(await api.instances.mine.query()).toMatchObject({ id: created.id, state: 'running' });
  });

  it('pairs a device with a ticket, lists it and revokes it', async () => {
    const api = t.client(token);
    const mine = await api.instances.mine.query();
    if (!mine) throw new Error('no instance');
    const key = generateDeviceKey();
    const { ticket, gatewayUrl, expiresAt } = await api.instances.pairDevice.mutate({ instanceId: mine.id, publicKey: key.publicKey, deviceName: 'desktop' });
    expect(gatewayUrl).toBe(mine.url);
    expect(expiresAt).toBeGreaterThan(Date.now());
    await pairWithTicket(gatewayUrl, ticket, { publicKey: key.publicKey, sign: (p) => signPayload(key.privateKey, p) });
    const devices = await api.instances.devices.query({ instanceId: mine.id });
    expect(devices.find((d) => d.id === key.deviceId)).toMatchObject({ name: 'desktop', kind: 'client', revokedAt: null });
    await api.instances.revokeDevice.mutate({ instanceId: mine.id, deviceId: key.deviceId });
    const after = await api.instances.devices.query({ instanceId: mine.id });
    expect(after.find((d) => d.id === key.deviceId)?.revokedAt).not.toBeNull();
    const actions = (await t.manager.services.audit.list({ limit: 100 })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['instance.provision', 'device.pair', 'device.revoke']));
  });

  it('a device paired with the instance signs in at once while wrong passwords slow everyone else at its address (issue 8, item 3)', async () => {
    const api = t.client(token);
    const mine = await api.instances.mine.query();
    if (!mine) throw new Error('no instance');
    const key = generateDeviceKey();
    const { ticket, gatewayUrl } = await api.instances.pairDevice.mutate({ instanceId: mine.id, publicKey: key.publicKey, deviceName: 'laptop' });
    await pairWithTicket(gatewayUrl, ticket, { publicKey: key.publicKey, sign: (p) => signPayload(key.privateKey, p) });
    // Someone at the same address guesses at the owner's password.
    for (let i = 0; i < 4; i++) {
      await t.client().auth.signIn.mutate({ email: 'owner@example.com', password: `guess ${i}` }).catch(() => undefined);
    }
    await expect(t.client().auth.signIn.mutate({ email: 'owner@example.com', password: 'correct horse battery' })).rejects.toMatchObject({
      data: { appCode: 'RATE_LIMITED', details: { retryAfterMs: expect.any(Number) } },
    });
    // The owner's paired device proves itself (its key signs the account's sign-in nonce) and is let in at once.
    const timestamp = Date.now();
    const device = { publicKey: key.publicKey, timestamp, signature: signPayload(key.privateKey, authPayload(SIGNIN_PROOF_NONCE, key.deviceId, timestamp)) };
    const signedIn = await t.client().auth.signIn.mutate({ email: 'owner@example.com', password: 'correct horse battery', device });
    expect(signedIn.user.email).toBe('owner@example.com');
  });

  it('hides the instance from other users and from anyone signed out', async () => {
    const mine = await t.client(token).instances.mine.query();
    if (!mine) throw new Error('no instance');
    const other = t.client(otherToken);
    expect(await other.instances.mine.query()).toBeNull();
    for (const call of [
      () => other.instances.stop.mutate({ instanceId: mine.id }),
      () => other.instances.devices.query({ instanceId: mine.id }),
      () => other.instances.pairDevice.mutate({ instanceId: mine.id, publicKey: generateDeviceKey().publicKey, deviceName: 'x' }),
    ]) {
      await expect(call()).rejects.toMatchObject({ data: { appCode: 'NOT_FOUND' } });
    }
    await expect(t.client().instances.mine.query()).rejects.toMatchObject({ data: { appCode: 'UNAUTHORIZED' } });
    expect((await t.manager.services.instances?.get(mine.id))?.state).toBe('running');
  });

  it('stops, starts and deletes the instance', async () => {
    const api = t.client(token);
    const mine = await api.instances.mine.query();
    if (!mine) throw new Error('no instance');
    await api.instances.stop.mutate({ instanceId: mine.id });
    await waitFor('stopped', async () => (await api.instances.mine.query())?.state === 'stopped');
    await expect(api.instances.pairDevice.mutate({ instanceId: mine.id, publicKey: generateDeviceKey().publicKey, deviceName: 'x' })).rejects.toMatchObject({
      data: { appCode: 'CONFLICT' },
    });
    await api.instances.start.mutate({ instanceId: mine.id });
    await waitFor('running', async () => (await api.instances.mine.query())?.state === 'running');
    await api.instances.delete.mutate({ instanceId: mine.id });
    await waitFor('deleted', async () => (await api.instances.mine.query()) === null);
  });
});

describe('a manager that stops its gateways on close', () => {
  it('leaves no gateway running (the row keeps its state for the next start to recover)', async () => {
    const bundle = await bundleGatewayCommand();
    const t = await startTestManager({ options: { instances: { localDriver: { command: bundle.command }, stopGatewaysOnClose: true } } });
    try {
      const token = (await t.setupOwner('owner@example.com')).token;
      const created = await t.client(token).instances.create.mutate();
      const running = await waitFor('running', async () => {
        const mine = await t.client(token).instances.mine.query();
        return mine?.state === 'running' ? mine : null;
      });
      expect(running.id).toBe(created.id);
      await t.manager.close();
      expect(isProcessAlive(running.pid as number)).toBe(false);
    } finally {
      killGateways(t.dir);
      await t.close();
      bundle.dispose();
    }
  });
});
