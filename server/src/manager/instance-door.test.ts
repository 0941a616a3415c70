/**
 * The one door on a real manager with the local driver: a device pairs,
 * connects and chats with its instance through the manager's address
 * (/i/<instanceId>/…, HTTP and WebSocket), the request id reaches the
 * gateway's log of the turn, and what is not behind the door says so.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '@autoclaw/shared';
import { connectAsDevice } from '../cli';
import { generateDeviceKey, signPayload } from '../security';
import { startAnthropicWireServer } from '../testing';
import type { WireServerHandle } from '../testing';
import { bundleGatewayCommand, killGateways, waitFor } from './drivers/local/test-support';
import { pairWithTicket } from './instances/gateway-link';
import { startTestManager, wsUpgradeStatus } from './test-kit';
import type { TestManager } from './test-kit';

const API_KEY = 'sk-ant-door-test-0123456789abcdef';

describe('the one door (/i/<instanceId>/…)', () => {
  let t: TestManager;
  let wire: WireServerHandle;
  let dispose: () => void;
  let instance: Instance;
  let token: string;

  beforeAll(async () => {
    wire = await startAnthropicWireServer();
    const bundle = await bundleGatewayCommand();
    dispose = bundle.dispose;
    t = await startTestManager({ options: { instances: { localDriver: { command: bundle.command } } } });
    token = (await t.setupOwner('owner@example.com')).token;
    const api = t.client(token);
    await api.instances.create.mutate();
    instance = await waitFor('running', async () => {
      const mine = await api.instances.mine.query();
      return mine?.state === 'running' ? mine : null;
    }, 30_000);
  });
  afterAll(async () => {
    killGateways(t.dir);
    await t.close();
    await wire.close();
    dispose();
  });

  it('pairs, connects and chats with the instance through the manager, request id and all', async () => {
    const door = `${t.url}/i/${instance.id}`;
    const key = generateDeviceKey();
    const { ticket } = await t.client(token).instances.pairDevice.mutate({ instanceId: instance.id, publicKey: key.publicKey, deviceName: 'phone' });
    await pairWithTicket(door, ticket, { publicKey: key.publicKey, sign: (p) => signPayload(key.privateKey, p) });

    const conn = connectAsDevice({ url: door, key });
    try {
      await conn.call(conn.client.settings.set.mutate({ key: 'anthropic.baseUrl', value: wire.url, apiKey: API_KEY }));
      await conn.call(conn.client.settings.set.mutate({ key: 'model', value: 'anthropic:claude-test-model' }));
      const session = await conn.call(conn.client.sessions.create.mutate({}));
      const sent = await conn.call(conn.client.chat.send.mutate({ sessionId: session.id, clientId: 'door-msg-0001', text: 'hello through the door' }));
      const answer = await waitFor('the answer', async () => {
        const history = await conn.call(conn.client.chat.history.query({ sessionId: session.id }));
        return history.find((m) => m.role === 'assistant' && m.status === 'done' && m.text.length > 0) ?? null;
      }, 20_000);
      expect(answer.text.length).toBeGreaterThan(0);
      const log = join(t.dir, 'instances', instance.id, 'gateway.log');
      const turn = await waitFor('the turn in the gateway log', () => {
        if (!existsSync(log)) return null;
        return readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
          .find((e) => e['msg'] === 'turn finished' && e['messageId'] === sent.message.id) ?? null;
      });
      // The WebSocket's request id was made by the manager's door and carried into the gateway.
      expect(turn['requestId']).toMatch(/^[0-9a-f-]{36}$/);
      expect(readFileSync(log, 'utf8')).not.toContain(API_KEY);
    } finally {
      await conn.close();
    }
  });

  it('proxies HTTP with the client request id, and hides /metrics and unknown instances', async () => {
    const health = await fetch(`${t.url}/i/${instance.id}/healthz`, { headers: { 'x-request-id': 'door-req-000001' } });
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, instanceId: instance.id });
    expect(health.headers.get('x-request-id')).toBe('door-req-000001');
    const metrics = await fetch(`${t.url}/i/${instance.id}/metrics`);
    expect(metrics.status).toBe(404);
    const unknown = await fetch(`${t.url}/i/no-such-instance/healthz`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });

  it('refuses a WebSocket from a foreign origin at the door, and one for an unknown instance with a clear status', async () => {
    const status = wsUpgradeStatus;
    const wsBase = t.url.replace(/^http/, 'ws');
    expect(await status(`${wsBase}/i/${instance.id}/trpc?connectionParams=1`, 'https://evil.example')).toBe(403);
    expect(await status(`${wsBase}/i/no-such-instance/trpc?connectionParams=1`)).toBe(404);
    expect(await status(`${wsBase}/i/${instance.id}/trpc?connectionParams=1`)).toBe(101);
  });
});
