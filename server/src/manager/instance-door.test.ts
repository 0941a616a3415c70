/**
 * The one door on a real manager with the local driver: a device pairs,
 * connects and chats with its instance through the manager's address
 * (/i/<instanceId>/…, HTTP and WebSocket), the request id reaches the
 * gateway's log of the turn, and what is not behind the door says so.
 * Only the owner's account gets through (a session token or a door pass);
 * anyone else is refused before anything reaches the instance, and whoever
 * keeps failing is slowed down without the owner being held back.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOOR_PASS_PARAM, WS_CLOSE_DOOR_REFUSED, WS_CLOSE_RATE_LIMITED } from '@autoclaw/shared';
import type { Instance } from '@autoclaw/shared';
import { testEngine } from './db/test-db';
import { connectAsDevice } from '../cli';
import { generateDeviceKey, signPayload } from '../security';
import { startAnthropicWireServer } from '../testing';
import type { WireServerHandle } from '../testing';
import { bundleGatewayCommand, killGateways, waitFor } from './drivers/local/test-support';
import { pairWithTicket } from './instances/gateway-link';
import { createRunningInstance, startTestManager, wsCloseOf, wsUpgradeStatus } from './test-kit';
import type { TestManager } from './test-kit';

const API_KEY = 'sk-ant-door-test-0123456789abcdef';

describe(`the one door (/i/<instanceId>/…) (${testEngine()})`, () => {
  let t: TestManager;
  let wire: WireServerHandle;
  let dispose: () => void;
  let instance: Instance;
  let token: string;
  /** Another account's session (it owns no instance here). */
  let strangerToken: string;
  const owner = () => ({ authorization: `Bearer ${token}` });
  const stranger = () => ({ authorization: `Bearer ${strangerToken}` });
  /** What the gateway's log holds now (to see that a refused request never reached it). */
  const gatewayLog = () => {
    const log = join(t.dir, 'instances', instance.id, 'gateway.log');
    return existsSync(log) ? readFileSync(log, 'utf8') : '';
  };

  beforeAll(async () => {
    wire = await startAnthropicWireServer();
    const bundle = await bundleGatewayCommand();
    dispose = bundle.dispose;
    // Four free refusals per address, then waits (the limiter's style, counted in the database).
    t = await startTestManager({ options: { instances: { localDriver: { command: bundle.command } }, accounts: { limits: { freeFailuresPerAddress: 4, baseDelayMs: 60_000 } } } });
    token = (await t.setupOwner('owner@example.com')).token;
    await t.manager.services.accounts.createUser({ email: 'stranger@example.com', password: 'another horse battery' });
    strangerToken = (await t.client().auth.signIn.mutate({ email: 'stranger@example.com', password: 'another horse battery' })).token;
    const api = t.client(token);
    instance = await createRunningInstance(api);
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
    await pairWithTicket(door, ticket, { publicKey: key.publicKey, sign: (p) => signPayload(key.privateKey, p) }, Date.now, owner());

    const conn = connectAsDevice({ url: door, key, headers: owner() });
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
    const health = await fetch(`${t.url}/i/${instance.id}/healthz`, { headers: { ...owner(), 'x-request-id': 'door-req-000001' } });
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, instanceId: instance.id });
    expect(health.headers.get('x-request-id')).toBe('door-req-000001');
    const metrics = await fetch(`${t.url}/i/${instance.id}/metrics`, { headers: owner() });
    expect(metrics.status).toBe(404);
    const unknown = await fetch(`${t.url}/i/no-such-instance/healthz`, { headers: owner() });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });

  it('lets a door pass of the owner through (taken off before the instance sees it), and refuses passes that do not fit', async () => {
    const api = t.client(token);
    const { pass, expiresAt } = await api.instances.doorPass.mutate({ instanceId: instance.id });
    expect(expiresAt).toBeGreaterThan(Date.now());
    const ok = await fetch(`${t.url}/i/${instance.id}/healthz?${DOOR_PASS_PARAM}=${encodeURIComponent(pass)}`, { headers: { 'x-request-id': 'door-pass-req-01' } });
    expect(ok.status).toBe(200);
    const wsBase = t.url.replace(/^http/, 'ws');
    expect(await wsUpgradeStatus(`${wsBase}/i/${instance.id}/trpc?connectionParams=1&${DOOR_PASS_PARAM}=${encodeURIComponent(pass)}`)).toBe(101);
    // The gateway never saw the pass (nor the manager's session token).
    expect(gatewayLog()).not.toContain(pass.slice(0, 40));
    expect(gatewayLog()).not.toContain(token);
    // Tampered: refused.
    const [body, signature] = pass.split('.');
    const forged = `${body ?? ''}A.${signature ?? ''}`;
    const bad = await fetch(`${t.url}/i/${instance.id}/healthz?${DOOR_PASS_PARAM}=${encodeURIComponent(forged)}`);
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    // Another account cannot get a pass to this instance (its existence is not revealed).
    await expect(t.client(strangerToken).instances.doorPass.mutate({ instanceId: instance.id })).rejects.toMatchObject({ data: { appCode: 'NOT_FOUND' } });
  });

  it("refuses another account (403) and no proof (401) before anything reaches the instance; whoever keeps failing waits, the owner does not", async () => {
    const before = gatewayLog();
    const foreign = await fetch(`${t.url}/i/${instance.id}/healthz`, { headers: { ...stranger(), 'x-request-id': 'stranger-req-0001' } });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    const wsBase = t.url.replace(/^http/, 'ws');
    const closed = await wsCloseOf(`${wsBase}/i/${instance.id}/trpc?connectionParams=1`, stranger());
    expect(closed.code).toBe(WS_CLOSE_DOOR_REFUSED);
    expect(closed.reason).toMatch(/^FORBIDDEN: /);
    const anonymous = await fetch(`${t.url}/i/${instance.id}/healthz`);
    expect(anonymous.status).toBe(401);
    // Four refusals from this address so far (with the forged pass): the next one waits.
    const limited = await fetch(`${t.url}/i/${instance.id}/healthz`, { headers: stranger() });
    expect(limited.status).toBe(429);
    const limitedWs = await wsCloseOf(`${wsBase}/i/${instance.id}/trpc?connectionParams=1`, stranger());
    expect(limitedWs.code).toBe(WS_CLOSE_RATE_LIMITED);
    // Nothing of it reached the gateway.
    expect(gatewayLog().slice(before.length)).not.toContain('stranger-req-0001');
    // The owner, from the same address, proves who it is and is not held back.
    const mine = await fetch(`${t.url}/i/${instance.id}/healthz`, { headers: owner() });
    expect(mine.status).toBe(200);
    expect(await wsUpgradeStatus(`${wsBase}/i/${instance.id}/trpc?connectionParams=1`, undefined, owner())).toBe(101);
  });

  it("lets a channel's webhook through without a manager session (the channel authenticates it at the gateway)", async () => {
    const hook = await fetch(`${t.url}/i/${instance.id}/channels/telegram/webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    // The gateway's own answer: Telegram is not set up on this instance.
    expect(hook.status).toBe(503);
    expect(((await hook.json()) as { error: { code: string } }).error.code).toBe('NOT_CONFIGURED');
  });

  it('refuses a WebSocket from a foreign origin at the door, and one for an unknown instance with a clear status', async () => {
    const status = wsUpgradeStatus;
    const wsBase = t.url.replace(/^http/, 'ws');
    expect(await status(`${wsBase}/i/${instance.id}/trpc?connectionParams=1`, 'https://evil.example', owner())).toBe(403);
    expect(await status(`${wsBase}/i/no-such-instance/trpc?connectionParams=1`, undefined, owner())).toBe(404);
    expect(await status(`${wsBase}/i/${instance.id}/trpc?connectionParams=1`, undefined, owner())).toBe(101);
  });
});
