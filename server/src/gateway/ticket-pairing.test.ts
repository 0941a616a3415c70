/**
 * POST /auth/ticket on a managed gateway: a manager-signed, single-use ticket
 * bound to one device key and one instance pairs that device; forged,
 * expired, replayed, foreign-key and other-instance tickets are refused and
 * change nothing in the store. The manager device may drain and read health.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { authPayload, TICKET_TTL_MS } from '@autoclaw/shared';
import type { TicketPayload } from '@autoclaw/shared';
import { encodeTicket, generateDeviceKey, signPayload } from '../security';
import type { DeviceKeyPair } from '../security';
import { getChallenge, openAuthedSocket, startTestGateway } from './test-kit';
import type { TestGateway } from './test-kit';

const INSTANCE = 'inst_ticket_test';

describe('pairing with a manager ticket', () => {
  let t: TestGateway;
  let manager: DeviceKeyPair;
  beforeEach(async () => {
    manager = generateDeviceKey();
    t = await startTestGateway({
      config: { instanceId: INSTANCE, managerKey: manager.publicKey },
      options: { authFreeFailures: 1_000 },
    });
  });
  afterEach(async () => {
    await t.close();
  });

  function ticketFor(device: DeviceKeyPair, over: Partial<TicketPayload> = {}, signer: DeviceKeyPair = manager): string {
    const now = Date.now();
    const payload: TicketPayload = {
      v: 1,
      jti: randomBytes(16).toString('base64url'),
      instanceId: INSTANCE,
      devicePublicKey: device.publicKey,
      deviceName: 'laptop',
      kind: 'client',
      iat: now,
      exp: now + TICKET_TTL_MS,
      ...over,
    };
    return encodeTicket(payload, (input) => signPayload(signer.privateKey, input));
  }

  async function redeem(ticket: string, device: DeviceKeyPair): Promise<{ status: number; body: Record<string, unknown> }> {
    const { nonce } = await getChallenge(t.url);
    const timestamp = Date.now();
    const res = await fetch(`${t.url}/auth/ticket`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        ticket,
        publicKey: device.publicKey,
        nonce,
        timestamp,
        signature: signPayload(device.privateKey, authPayload(nonce, device.deviceId, timestamp)),
      }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('reports the instance id on /healthz', async () => {
    expect(await (await fetch(`${t.url}/healthz`)).json()).toEqual({ ok: true, instanceId: INSTANCE });
  });

  it('pairs the device a ticket is bound to, once', async () => {
    const device = generateDeviceKey();
    const ticket = ticketFor(device);
    const first = await redeem(ticket, device);
    expect(first).toEqual({ status: 200, body: { deviceId: device.deviceId } });
    expect(t.gateway.store.getDevice(device.deviceId)).toMatchObject({ kind: 'client', name: 'laptop', role: 'owner' });

    const socket = await openAuthedSocket(t.url, device);
    const whoami = await socket.call('query', 'auth.whoami');
    expect(whoami['result']).toMatchObject({ data: { deviceId: device.deviceId, kind: 'client' } });
    socket.ws.close();
    await socket.closed;

    // Replayed: the same ticket again (even by its own device) is refused and writes nothing.
    const before = t.gateway.store.dump();
    const replay = await redeem(ticket, device);
    expect(replay.status).toBe(401);
    expect(replay.body).toMatchObject({ error: { code: 'UNAUTHORIZED', message: 'ticket was already used' } });
    expect(t.gateway.store.dump()).toBe(before);
  });

  it('pairs with the role a ticket names (owner when it names none; a manager ticket is always owner)', async () => {
    const phone = generateDeviceKey();
    expect((await redeem(ticketFor(phone, { role: 'chat' }), phone)).status).toBe(200);
    expect(t.gateway.store.getDevice(phone.deviceId)?.role).toBe('chat');
    expect((await redeem(ticketFor(manager, { kind: 'manager', deviceName: 'manager', role: 'chat' }), manager)).status).toBe(200);
    expect(t.gateway.store.getDevice(manager.deviceId)).toMatchObject({ kind: 'manager', role: 'owner' });
  });

  it('refuses forged, expired, foreign-key, other-instance and malformed tickets without writing anything', async () => {
    const device = generateDeviceKey();
    const other = generateDeviceKey();
    const before = t.gateway.store.dump();
    const now = Date.now();
    const cases: Array<[string, string, DeviceKeyPair, string]> = [
      ['forged (signed by another key)', ticketFor(device, {}, generateDeviceKey()), device, 'not signed by'],
      ['expired', ticketFor(device, { iat: now - 2 * TICKET_TTL_MS, exp: now - TICKET_TTL_MS }), device, 'expired'],
      ['bound to another key', ticketFor(other), device, 'bound to another device key'],
      ['for another instance', ticketFor(device, { instanceId: 'inst_other' }), device, 'another instance'],
      ['a manager ticket for a client key', ticketFor(device, { kind: 'manager' }), device, "manager's own key"],
      ['tampered payload', ticketFor(device).replace(/^[A-Za-z0-9_-]{4}/, 'AAAA'), device, 'ticket'],
      ['garbage', 'not-a-ticket', device, 'malformed'],
    ];
    for (const [what, ticket, key, message] of cases) {
      const res = await redeem(ticket, key);
      expect([what, res.status]).toEqual([what, 401]);
      expect((res.body['error'] as { message: string }).message, what).toContain(message);
    }
    const bad = await fetch(`${t.url}/auth/ticket`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ticket":1}' });
    expect(bad.status).toBe(400);
    expect(t.gateway.store.dump()).toBe(before);
  });

  it('refuses a device signature made over another nonce', async () => {
    const device = generateDeviceKey();
    const { nonce } = await getChallenge(t.url);
    const timestamp = Date.now();
    const before = t.gateway.store.dump();
    const res = await fetch(`${t.url}/auth/ticket`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        ticket: ticketFor(device),
        publicKey: device.publicKey,
        nonce,
        timestamp,
        signature: signPayload(device.privateKey, authPayload('another-nonce', device.deviceId, timestamp)),
      }),
    });
    expect(res.status).toBe(401);
    expect(t.gateway.store.dump()).toBe(before);
  });

  it('while bad tickets slow an address, a valid ticket still pairs and the manager device still connects', async () => {
    await t.close();
    t = await startTestGateway({ config: { instanceId: INSTANCE, managerKey: manager.publicKey } });
    const device = generateDeviceKey();
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await redeem(ticketFor(device, {}, generateDeviceKey()), device)).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.at(-1)).toBe(429);

    expect(await redeem(ticketFor(device), device)).toEqual({ status: 200, body: { deviceId: device.deviceId } });
    expect((await redeem(ticketFor(manager, { kind: 'manager', deviceName: 'manager' }), manager)).status).toBe(200);
    const managerSocket = await openAuthedSocket(t.url, manager);
    expect((await managerSocket.call('query', 'admin.health'))['result']).toBeDefined();
    managerSocket.ws.close();
    await managerSocket.closed;
  });

  it('lets only the manager device drain and read health; a draining gateway refuses new turns', async () => {
    const client = generateDeviceKey();
    expect((await redeem(ticketFor(client), client)).status).toBe(200);
    expect((await redeem(ticketFor(manager, { kind: 'manager', deviceName: 'manager' }), manager)).status).toBe(200);

    const clientSocket = await openAuthedSocket(t.url, client);
    const refused = await clientSocket.call('query', 'admin.health');
    expect(refused['error']).toMatchObject({ data: { appCode: 'FORBIDDEN' } });
    const revokeManager = await clientSocket.call('mutation', 'devices.revoke', { deviceId: manager.deviceId });
    expect(revokeManager['error']).toMatchObject({ data: { appCode: 'FORBIDDEN' } });

    const managerSocket = await openAuthedSocket(t.url, manager);
    const health = await managerSocket.call('query', 'admin.health');
    expect(health['result']).toMatchObject({ data: { busySessions: 0, draining: false } });
    const rss = ((health['result'] as { data: { rssMb: number } }).data).rssMb;
    expect(rss).toBeGreaterThan(10);
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
    const drained = await managerSocket.call('mutation', 'admin.drain', { timeoutMs: 1_000 });
    expect(drained['result']).toEqual({ type: 'data', data: { drained: true, busySessions: 0 } });
    // Draining is not ready: the manager's door holds new clients until the next gateway is.
    expect((await fetch(`${t.url}/readyz`)).status).toBe(503);

    const session = await clientSocket.call('mutation', 'sessions.ensure', { name: 'main' });
    const sessionId = (session['result'] as { data: { id: string } }).data.id;
    const send = await clientSocket.call('mutation', 'chat.send', { sessionId, clientId: 'client-msg-0001', text: 'hi' });
    expect(send['error']).toMatchObject({ data: { appCode: 'CONFLICT' } });

    const devices = await managerSocket.call('query', 'devices.list');
    expect((devices['result'] as { data: Array<{ id: string }> }).data.map((d) => d.id)).toEqual(
      expect.arrayContaining([client.deviceId, manager.deviceId]),
    );
    const revoke = await managerSocket.call('mutation', 'devices.revoke', { deviceId: client.deviceId });
    expect(revoke['result']).toMatchObject({ data: { ok: true } });
    expect(await clientSocket.closed).toMatchObject({ code: 4401 });
    managerSocket.ws.close();
    await managerSocket.closed;
  });
});

describe('an unmanaged gateway', () => {
  it('refuses tickets as not configured', async () => {
    const t = await startTestGateway();
    try {
      const res = await fetch(`${t.url}/auth/ticket`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(res.status).toBe(412);
      expect(await (await fetch(`${t.url}/healthz`)).json()).toEqual({ ok: true });
    } finally {
      await t.close();
    }
  });
});
