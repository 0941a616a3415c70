import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUTH_MAX_SKEW_MS, WS_CLOSE_RATE_LIMITED, WS_CLOSE_UNAUTHORIZED } from '@autoclaw/shared';
import { generateDeviceKey } from '../security';
import { getChallenge, openAuthedSocket, openRawSocket, signedParams, startTestGateway } from './test-kit';
import type { TestGateway } from './test-kit';

describe('WebSocket device authentication', () => {
  let t: TestGateway;
  beforeEach(async () => {
    t = await startTestGateway({ options: { authFreeFailures: 1_000 } });
  });
  afterEach(async () => {
    await t.close();
  });

  async function attempt(params: unknown): Promise<{ code: number; reason: string } | 'open'> {
    const socket = await openRawSocket(t.wsUrl);
    socket.send({ method: 'connectionParams', data: params });
    // Only a data answer counts as accepted; an error answer or a close does not.
    const answer = socket.call('query', 'auth.whoami').then(
      (msg) => ('result' in msg ? ('open' as const) : ('refused' as const)),
      () => 'refused' as const,
    );
    const outcome = await Promise.race([answer, socket.closed]);
    if (outcome === 'open') {
      socket.ws.close();
      return 'open';
    }
    return socket.closed;
  }

  it('accepts a paired device that signs a fresh challenge', async () => {
    const key = t.addDevice('laptop');
    const socket = await openAuthedSocket(t.url, key);
    const res = await socket.call('query', 'auth.whoami');
    expect(res['result']).toEqual({ type: 'data', data: { deviceId: key.deviceId, name: 'laptop', kind: 'client', role: 'owner' } });
    socket.ws.close();
    await socket.closed;
  });

  it('refuses a replayed nonce, a stale timestamp, a forged signature, another device key and unknown devices with 4401', async () => {
    const key = t.addDevice();
    const other = t.addDevice();
    const { nonce } = await getChallenge(t.url);
    const good = signedParams(key, nonce);
    expect(await attempt(good)).toBe('open');
    // From here on every attempt is refused and none may write anything.
    const before = t.gateway.store.dump();
    expect(await attempt(good)).toMatchObject({ code: WS_CLOSE_UNAUTHORIZED });

    const stale = signedParams(key, (await getChallenge(t.url)).nonce, Date.now() - AUTH_MAX_SKEW_MS - 5_000);
    expect(await attempt(stale)).toMatchObject({ code: WS_CLOSE_UNAUTHORIZED });

    const forged = { ...signedParams(key, (await getChallenge(t.url)).nonce), signature: 'A'.repeat(86) };
    expect(await attempt(forged)).toMatchObject({ code: WS_CLOSE_UNAUTHORIZED });

    const otherKey = signedParams(other, (await getChallenge(t.url)).nonce, Date.now(), key.deviceId);
    expect(await attempt(otherKey)).toMatchObject({ code: WS_CLOSE_UNAUTHORIZED });

    const stranger = generateDeviceKey();
    expect(await attempt(signedParams(stranger, (await getChallenge(t.url)).nonce))).toMatchObject({ code: WS_CLOSE_UNAUTHORIZED });
    expect(await attempt(signedParams(key, 'made-up-nonce'))).toMatchObject({ code: WS_CLOSE_UNAUTHORIZED });
    expect(await attempt({})).toMatchObject({ code: WS_CLOSE_UNAUTHORIZED });
    expect(await attempt('not an object')).toMatchObject({ code: WS_CLOSE_UNAUTHORIZED });
    expect(t.gateway.store.dump()).toBe(before);
  });

  it('refuses a revoked device and closes its open socket at once', async () => {
    const key = t.addDevice();
    const admin = t.addDevice('admin');
    const socket = await openAuthedSocket(t.url, key);
    expect((await socket.call('query', 'auth.whoami'))['result']).toBeDefined();

    const adminSocket = await openAuthedSocket(t.url, admin);
    const res = await adminSocket.call('mutation', 'devices.revoke', { deviceId: key.deviceId });
    expect(res['result']).toEqual({ type: 'data', data: { ok: true } });
    expect(await socket.closed).toMatchObject({ code: WS_CLOSE_UNAUTHORIZED });
    expect(await attempt(signedParams(key, (await getChallenge(t.url)).nonce))).toMatchObject({ code: WS_CLOSE_UNAUTHORIZED });
    adminSocket.ws.close();
  });

  it('makes the Node client give up at once on 4401 instead of reconnecting', async () => {
    const conn = t.connect(generateDeviceKey());
    const outcome = await conn.call(conn.client.auth.whoami.query()).catch((err: unknown) => err);
    expect(outcome).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('closes sockets that send something other than connectionParams first, or none at all', async () => {
    const noParams = await openRawSocket(t.wsUrl, { query: '' });
    expect(await noParams.closed).toMatchObject({ code: WS_CLOSE_UNAUTHORIZED });

    const wrongFirst = await openRawSocket(t.wsUrl);
    wrongFirst.send({ id: 1, method: 'query', params: { path: 'health' } });
    expect(await wrongFirst.closed).toMatchObject({ code: WS_CLOSE_UNAUTHORIZED });

    const garbage = await openRawSocket(t.wsUrl);
    garbage.send('{not json');
    expect(await garbage.closed).toMatchObject({ code: WS_CLOSE_UNAUTHORIZED });
  });
});

describe('WebSocket authentication limits', () => {
  it('closes a socket that does not authenticate in time', async () => {
    const t = await startTestGateway({ options: { authTimeoutMs: 200 } });
    try {
      const socket = await openRawSocket(t.wsUrl);
      const started = Date.now();
      expect(await socket.closed).toMatchObject({ code: WS_CLOSE_UNAUTHORIZED, reason: 'authentication timeout' });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await t.close();
    }
  });

  it('slows failing handshakes per address with 4429, lets a correct proof in, and refuses pairing with 429', async () => {
    const t = await startTestGateway({ options: { authFreeFailures: 3 } });
    try {
      const key = t.addDevice();
      for (let i = 0; i < 3; i++) {
        const socket = await openRawSocket(t.wsUrl);
        socket.send({ method: 'connectionParams', data: signedParams(key, 'bad-nonce') });
        expect(await socket.closed).toMatchObject({ code: WS_CLOSE_UNAUTHORIZED });
      }
      const fourth = await openRawSocket(t.wsUrl);
      fourth.send({ method: 'connectionParams', data: signedParams(key, 'bad-nonce') });
      expect(await fourth.closed).toMatchObject({ code: WS_CLOSE_RATE_LIMITED });
      // A correct proof from the same address is not refused.
      const socket = await openAuthedSocket(t.url, key);
      expect((await socket.call('query', 'auth.whoami'))['result']).toBeDefined();
      socket.ws.close();

      const res = await fetch(`${t.url}/auth/pair`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({}),
      });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await res.json()).toMatchObject({ error: { code: 'RATE_LIMITED', details: { retryAfterMs: expect.any(Number) } } });
    } finally {
      await t.close();
    }
  });
});
