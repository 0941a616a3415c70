/**
 * The switch of an update as a client at the door sees it, on a real
 * manager with the local driver and real gateway processes: the update is
 * paused by the test seam right after the old gateway stopped (drained) and
 * before the new version starts; a client that connects and sends a message
 * then is held by the door — not refused — and, once the new version is up
 * on the same address, its message is stored and answered, after the one
 * sent before the update.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '@autoclaw/shared';
import { connectAsDevice } from '../../cli';
import type { GatewayConnection } from '../../cli';
import { generateDeviceKey, signPayload } from '../../security';
import { startAnthropicWireServer } from '../../testing';
import type { WireServerHandle } from '../../testing';
import { bundleGatewayCommand, killGateways, REPO_ROOT, waitFor } from '../drivers/local/test-support';
import { silentLogger } from '../gateway-parts';
import type { Logger } from '../gateway-parts';
import { pairWithTicket } from '../instances/gateway-link';
import { createRunningInstance, startTestManager } from '../test-kit';
import type { TestManager } from '../test-kit';
import { buildTestRelease, testReleaseKey } from './test-releases';

const API_KEY = 'sk-ant-switch-test-0123456789abcdef';

describe('the door through the switch of an update', () => {
  let t: TestManager;
  let wire: WireServerHandle;
  let out: string;
  const disposers: Array<() => void> = [];
  let instance: Instance;
  let token: string;
  const key = testReleaseKey();
  // The seam: the update stops right after the old gateway stopped until `release` is called.
  let atSwitch: () => void = () => {};
  const reachedSwitch = new Promise<void>((resolve) => {
    atSwitch = resolve;
  });
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let switching = false;
  let onHold: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    onHold = resolve;
  });
  const logger: Logger = {
    ...silentLogger,
    info(msg, fields) {
      if (msg.startsWith('door: holding a client through the switch') && switching) onHold();
      silentLogger.info(msg, fields);
    },
  };

  beforeAll(async () => {
    wire = await startAnthropicWireServer();
    const bundle = await bundleGatewayCommand();
    disposers.push(bundle.dispose);
    const cache = join(REPO_ROOT, 'node_modules/.cache/autoclaw-tests');
    mkdirSync(cache, { recursive: true });
    out = mkdtempSync(join(cache, 'switch-releases-'));
    t = await startTestManager({
      options: {
        logger,
        instances: { localDriver: { command: bundle.command } },
        updates: {
          releaseKeys: [key.publicKey],
          timings: { healthWindowMs: 1_000, healthPollMs: 100, drainTimeoutMs: 5_000 },
          afterUpdateStep: async (step) => {
            if (step !== 'switch:stopped') return;
            switching = true;
            atSwitch();
            await released;
          },
        },
      },
    });
    token = (await t.setupOwner('owner@example.com')).token;
    const api = t.client(token);
    instance = await createRunningInstance(api);
    const built = await buildTestRelease(out, { version: '2.0.0', kind: 'good', key: key.privateKey });
    await t.manager.services.updates?.releases.add(readFileSync(built.manifestPath, 'utf8'), join(built.manifestPath, '..'));
  }, 180_000);

  afterAll(async () => {
    release();
    if (t) {
      killGateways(t.dir);
      await t.close();
    }
    await wire?.close();
    disposers.forEach((d) => d());
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('holds a message sent during the switch and answers it on the new version, nothing lost', async () => {
    const door = `${t.url}/i/${instance.id}`;
    const owner = { authorization: `Bearer ${token}` };
    const device = generateDeviceKey();
    const { ticket } = await t.client(token).instances.pairDevice.mutate({ instanceId: instance.id, publicKey: device.publicKey, deviceName: 'phone' });
    await pairWithTicket(door, ticket, { publicKey: device.publicKey, sign: (p) => signPayload(device.privateKey, p) }, Date.now, owner);
    const connect = (): GatewayConnection => connectAsDevice({ url: door, key: device, headers: owner, maxConnectAttempts: 10 });

    const before = connect();
    let during: GatewayConnection | null = null;
    try {
      await before.call(before.client.settings.set.mutate({ key: 'anthropic.baseUrl', value: wire.url, apiKey: API_KEY }));
      await before.call(before.client.settings.set.mutate({ key: 'model', value: 'anthropic:claude-test-model' }));
      const session = await before.call(before.client.sessions.create.mutate({}));
      const first = await before.call(before.client.chat.send.mutate({ sessionId: session.id, clientId: 'switch-msg-0001', text: 'before the update' }));
      expect(first.message.status).not.toBe('failed');
      // Closed, so the only client at the door during the switch is the one below.
      await before.close();

      const updates = t.manager.services.updates;
      if (!updates) throw new Error('no updates part');
      const finished = updates.updater.begin(instance.id, { kind: 'update', version: '2.0.0', actor: 'operator' }).finished;
      await reachedSwitch;
      // The old gateway is gone, the new one not started: a client connecting and sending now is held at the door.
      during = connect();
      const conn = during;
      const sending = conn.call(conn.client.chat.send.mutate({ sessionId: session.id, clientId: 'switch-msg-0002', text: 'sent during the switch' }));
      await held;
      expect((await t.client(token).instances.mine.query())?.state).toBe('updating');
      release();

      const sent = await sending;
      expect(sent.message.text).toBe('sent during the switch');
      const answer = await waitFor('the answer to the message sent during the switch', async () => {
        const history = await conn.call(conn.client.chat.history.query({ sessionId: session.id }));
        const at = history.findIndex((m) => m.id === sent.message.id);
        return at >= 0 ? (history.slice(at + 1).find((m) => m.role === 'assistant' && m.status === 'done' && m.text.length > 0) ?? null) : null;
      }, 30_000);
      expect(answer.text.length).toBeGreaterThan(0);

      const run = await finished;
      expect(run).toMatchObject({ outcome: 'succeeded', toVersion: '2.0.0' });
      const after = await t.client(token).instances.mine.query();
      expect(after).toMatchObject({ state: 'running', url: instance.url });
      // The new version answers on the same address, with both messages.
      const history = await conn.call(conn.client.chat.history.query({ sessionId: session.id }));
      expect(history.filter((m) => m.role === 'user').map((m) => m.text)).toEqual(['before the update', 'sent during the switch']);
    } finally {
      await before.close();
      await during?.close();
    }
  }, 180_000);
});
