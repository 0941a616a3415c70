/**
 * Provisioned asleep (`--provision-asleep`): a new account's instance gets its
 * data directory and wrapped data key, goes `provisioning → sleeping` without
 * a gateway process, and its first client through the door wakes it; the
 * gateway then makes its store and answers a chat turn. A manager killed
 * mid-way resumes provisioning the same way (recovery runs provisionSteps).
 */
import { existsSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '@autoclaw/shared';
import { connectAsDevice } from '../cli';
import { databasePath } from '../gateway';
import { generateDeviceKey, signPayload } from '../security';
import { startAnthropicWireServer } from '../testing';
import type { WireServerHandle } from '../testing';
import { testEngine } from './db/test-db';
import { instanceDir } from './drivers/local';
import { bundleGatewayCommand, gatewayPids, killGateways, waitFor } from './drivers/local/test-support';
import { pairWithTicket } from './instances/gateway-link';
import { startTestManager } from './test-kit';
import type { TestManager } from './test-kit';

describe(`provisioned asleep (${testEngine()})`, () => {
  let t: TestManager;
  let wire: WireServerHandle;
  let dispose: () => void;
  let command: string[];

  beforeAll(async () => {
    wire = await startAnthropicWireServer();
    const bundle = await bundleGatewayCommand();
    dispose = bundle.dispose;
    command = bundle.command;
    t = await startTestManager({
      config: { provisionAsleep: true },
      options: { instances: { localDriver: { command }, idle: { sleepAfterMs: 3_600_000, checkEveryMs: 3_600_000 }, wakeTimeoutMs: 30_000 } },
    });
  });
  afterAll(async () => {
    killGateways(t.dir);
    await t.close();
    await wire.close();
    dispose();
  });

  const service = () => {
    const s = t.manager.services.instances;
    if (!s) throw new Error('no instances part');
    return s;
  };
  const moves = async (id: string) => (await service().events(id)).filter((e) => e.kind === 'transition').map((e) => `${e.from ?? '∅'}→${e.to}`);

  it('a new instance is made sleeping — its storage and key exist, no gateway runs — and its first client through the door wakes it and chats', async () => {
    const { token } = await t.setupOwner('asleep@example.com');
    const api = t.client(token);
    await api.instances.create.mutate();
    const instance: Instance = await waitFor('sleeping', async () => {
      const mine = await api.instances.mine.query();
      return mine?.state === 'sleeping' ? mine : null;
    }, 20_000);
    const dir = instanceDir(t.dir, instance.id);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(existsSync(databasePath(dir))).toBe(false);
    expect(gatewayPids(t.dir)).toEqual([]);
    expect(instance.pid).toBeUndefined();
    expect(await moves(instance.id)).toEqual(['∅→provisioning', 'provisioning→sleeping']);
    expect((await service().events(instance.id)).find((e) => e.to === 'sleeping')?.message).toBe('provisioned asleep: its gateway starts when a client first connects');

    // The first request through the door is held while the gateway starts for the first time.
    const door = `${t.url}/i/${instance.id}`;
    const owner = { authorization: `Bearer ${token}` };
    const health = await fetch(`${door}/healthz`, { headers: owner });
    expect(health.status).toBe(200);
    expect(((await health.json()) as { instanceId: string }).instanceId).toBe(instance.id);
    expect(await moves(instance.id)).toEqual(['∅→provisioning', 'provisioning→sleeping', 'sleeping→starting', 'starting→running']);
    expect(existsSync(databasePath(dir))).toBe(true);
    expect(gatewayPids(t.dir)).toHaveLength(1);

    const key = generateDeviceKey();
    const { ticket } = await api.instances.pairDevice.mutate({ instanceId: instance.id, publicKey: key.publicKey, deviceName: 'laptop' });
    await pairWithTicket(door, ticket, { publicKey: key.publicKey, sign: (p) => signPayload(key.privateKey, p) }, Date.now, owner);
    const conn = connectAsDevice({ url: door, key, headers: owner });
    try {
      await conn.call(conn.client.settings.set.mutate({ key: 'anthropic.baseUrl', value: wire.url, apiKey: 'sk-ant-asleep-0123456789abcdef' }));
      await conn.call(conn.client.settings.set.mutate({ key: 'model', value: 'anthropic:claude-test-model' }));
      const session = await conn.call(conn.client.sessions.create.mutate({}));
      await conn.call(conn.client.chat.send.mutate({ sessionId: session.id, clientId: 'asleep-msg-0001', text: 'hello, new instance' }));
      const answer = await waitFor('the answer', async () => {
        const history = await conn.call(conn.client.chat.history.query({ sessionId: session.id }));
        return history.find((m) => m.role === 'assistant' && m.status === 'done' && m.text.length > 0) ?? null;
      }, 20_000);
      expect(answer.text.length).toBeGreaterThan(0);
    } finally {
      await conn.close();
    }
    // A first start, a pairing and a turn: generous on a busy machine.
  }, 120_000);

  it('without --provision-asleep an instance is provisioned running, as before', async () => {
    const plain = await startTestManager({ options: { instances: { localDriver: { command } } } });
    try {
      const instances = plain.manager.services.instances;
      if (!instances) throw new Error('no instances part');
      const instance = await instances.provision('awake@example.com');
      expect(instance.state).toBe('running');
      expect((await instances.events(instance.id)).map((e) => e.to)).not.toContain('sleeping');
    } finally {
      killGateways(plain.dir);
      await plain.close();
    }
  });
});
