/**
 * Issue 8, item 2 (the manager's side): whatever way an instance's gateway
 * refuses or fails the manager — rate-limited (WebSocket close 4429 or HTTP
 * 429), unauthorised (4401), unreachable, hung, or failing a call — the
 * manager's device list and revoke answer at once with a typed error
 * (RATE_LIMITED with retryAfterMs, UNAUTHORIZED, PROVIDER_UNAVAILABLE,
 * TIMEOUT, or the gateway's own code), never a bare 500 or a wait for the
 * time limit after a refusal already came. Before, a rate-limited gateway
 * made the list answer 500 and a revoke 504.
 *
 * The gateway here is a local server speaking the gateway's wire protocol
 * (GET /auth/challenge, POST /auth/ticket, tRPC over WebSocket at /trpc with
 * connectionParams), so each refusal can be produced on purpose.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { rateLimitedReason, WS_CLOSE_RATE_LIMITED } from '@autoclaw/shared';
import { testEngine } from '../db/test-db';
import type { InstanceDriver } from '../drivers/types';
import { startTestManager } from '../test-kit';
import type { TestManager } from '../test-kit';

type Mode = 'ok' | 'ws-rate-limited' | 'http-rate-limited' | 'ws-unauthorized' | 'hang' | 'procedure-errors';

interface FakeGateway {
  url: string;
  mode: Mode;
  instanceId: string;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

async function startFakeGateway(): Promise<FakeGateway> {
  const wss = new WebSocketServer({ noServer: true });
  const gw: FakeGateway = { url: '', mode: 'ok', instanceId: '', close: async () => {} };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/healthz') return json(res, 200, { ok: true, instanceId: gw.instanceId });
    if (path === '/readyz') return json(res, 200, { ready: true });
    if (path === '/auth/challenge') return json(res, 200, { nonce: `n-${Math.random().toString(36).slice(2)}`, expiresAt: Date.now() + 60_000 });
    if (path === '/auth/ticket') {
      req.resume();
      if (gw.mode === 'http-rate-limited') {
        return json(res, 429, { error: { code: 'RATE_LIMITED', message: 'too many failed attempts; try again later' } }, { 'retry-after': '42' });
      }
      return json(res, 200, { deviceId: 'manager-device' });
    }
    json(res, 404, { error: { code: 'NOT_FOUND', message: 'not found' } });
  });
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (gw.mode === 'ws-rate-limited') return ws.close(WS_CLOSE_RATE_LIMITED, rateLimitedReason(7_000));
      if (gw.mode === 'ws-unauthorized') return ws.close(4401, 'unknown device');
      ws.on('message', (frame) => {
        const msg = JSON.parse(frame.toString()) as { id?: number; method?: string; params?: { path?: string } };
        if (msg.method === 'connectionParams' || msg.id === undefined || gw.mode === 'hang') return;
        const path = msg.params?.path;
        if (gw.mode === 'procedure-errors') {
          const [code, appCode, httpStatus] = path === 'devices.revoke' ? [-32004, 'NOT_FOUND', 404] : [-32603, 'INTERNAL', 500];
          ws.send(JSON.stringify({ id: msg.id, error: { message: appCode === 'NOT_FOUND' ? 'no device d-1' : 'internal error', code, data: { appCode, httpStatus, code: appCode } } }));
          return;
        }
        const data = path === 'devices.list' ? [{ id: 'manager-device', name: 'AutoClaw manager', kind: 'manager', createdAt: 1, lastSeenAt: 1, revokedAt: null }] : { ok: true };
        ws.send(JSON.stringify({ id: msg.id, result: { type: 'data', data } }));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  gw.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  gw.close = async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
  };
  return gw;
}

/** A driver whose one instance is the fake gateway (always "alive"). */
function driverFor(gw: FakeGateway): InstanceDriver {
  const runtime = () => ({ url: gw.url });
  return {
    kind: 'local',
    provision: async (spec) => {
      gw.instanceId = spec.instanceId;
      return runtime();
    },
    start: async () => runtime(),
    stop: async () => {},
    destroy: async () => {},
    status: async () => ({ alive: true, runtime: runtime() }),
    adopt: async () => runtime(),
    waitForReady: async () => {},
    close: async () => {},
  };
}

describe(`the manager when an instance's gateway refuses it (${testEngine()})`, () => {
  let gw: FakeGateway;
  let t: TestManager;
  let token: string;
  let instanceId: string;

  beforeAll(async () => {
    gw = await startFakeGateway();
    t = await startTestManager({
      options: { instances: { driver: driverFor(gw), gatewayCallTimeoutMs: 1_500, supervisor: { intervalMs: 600_000 } } },
    });
    token = (await t.setupOwner()).token;
    instanceId = (await t.manager.services.instances!.provision('owner@example.com')).id;
  });
  afterAll(async () => {
    await t?.close();
    await gw?.close();
  });

  async function refusal(call: () => Promise<unknown>): Promise<{ appCode: unknown; httpStatus: unknown; details: unknown; message: string }> {
    const err = (await call().then(
      () => null,
      (e: unknown) => e,
    )) as { message: string; data?: { appCode?: unknown; httpStatus?: unknown; details?: unknown } } | null;
    if (!err) throw new Error('expected a refusal');
    return { appCode: err.data?.appCode, httpStatus: err.data?.httpStatus, details: err.data?.details, message: err.message };
  }
  const list = () => t.client(token).instances.devices.query({ instanceId });
  const revoke = () => t.client(token).instances.revokeDevice.mutate({ instanceId, deviceId: 'd-1' });

  it('works while the gateway accepts the manager', async () => {
    gw.mode = 'ok';
    expect(await list()).toEqual([expect.objectContaining({ name: 'AutoClaw manager', kind: 'manager' })]);
    expect(await revoke()).toEqual({ ok: true });
  });

  it('a gateway that rate-limits the manager (WebSocket 4429): RATE_LIMITED with retryAfterMs, at once (was 500 and 504)', async () => {
    gw.mode = 'ws-rate-limited';
    for (const call of [list, revoke]) {
      const r = await refusal(call);
      // The wait the gateway named in its close reason.
      expect(r).toMatchObject({ appCode: 'RATE_LIMITED', httpStatus: 429, details: { retryAfterMs: 7_000 } });
      expect(r.message).toMatch(/refusing the manager for now/);
    }
  });

  it('a gateway that rate-limits the manager\'s registration (HTTP 429 with Retry-After): RATE_LIMITED with that wait', async () => {
    gw.mode = 'http-rate-limited';
    // A re-provisioned gateway forgot the manager device: it registers again, and is refused.
    await t.manager.services.instances!.stop(instanceId);
    await t.manager.services.instances!.start(instanceId);
    expect(await refusal(list)).toMatchObject({ appCode: 'RATE_LIMITED', httpStatus: 429, details: { retryAfterMs: 42_000 } });
  });

  it('a gateway that refuses the manager device (4401, even after registering again): UNAUTHORIZED', async () => {
    gw.mode = 'ws-unauthorized';
    for (const call of [list, revoke]) expect(await refusal(call)).toMatchObject({ appCode: 'UNAUTHORIZED', httpStatus: 401 });
  });

  it('a gateway that accepts but never answers: TIMEOUT after the manager\'s time limit', async () => {
    gw.mode = 'hang';
    for (const call of [list, revoke]) expect(await refusal(call)).toMatchObject({ appCode: 'TIMEOUT', httpStatus: 504, message: expect.stringMatching(/did not answer within 2 s/) });
  });

  it("a gateway's own errors: its code when it says one (NOT_FOUND), PROVIDER_UNAVAILABLE for its internal errors — never a bare 500", async () => {
    gw.mode = 'procedure-errors';
    expect(await refusal(revoke)).toMatchObject({ appCode: 'NOT_FOUND', httpStatus: 404, message: expect.stringMatching(/no device d-1/) });
    expect(await refusal(list)).toMatchObject({ appCode: 'PROVIDER_UNAVAILABLE', httpStatus: 503 });
  });

  it('an unreachable gateway: PROVIDER_UNAVAILABLE, naming the instance as unreachable', async () => {
    gw.mode = 'ok';
    await gw.close();
    for (const call of [list, revoke]) {
      expect(await refusal(call)).toMatchObject({ appCode: 'PROVIDER_UNAVAILABLE', httpStatus: 503, message: expect.stringMatching(/the instance is unreachable/) });
    }
  });
});
