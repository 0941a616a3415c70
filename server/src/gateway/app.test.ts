import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDeviceKey, issuePairingCode } from '../security';
import { CONTENT_SECURITY_POLICY } from './app';
import { openAuthedSocket, openRawSocket, pairBody, postJson as post, startTestGateway } from './test-kit';
import type { TestGateway } from './test-kit';

const FOREIGN = 'http://evil.example';

describe('the HTTP surface', () => {
  let t: TestGateway;
  let renderer: string;
  beforeAll(async () => {
    renderer = mkdtempSync(join(tmpdir(), 'autoclaw-renderer-'));
    mkdirSync(join(renderer, 'assets'));
    writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>WebChat</title>');
    writeFileSync(join(renderer, 'assets', 'app-123.js'), 'console.log(1)');
    writeFileSync(join(tmpdir(), 'autoclaw-outside.txt'), 'outside');
    t = await startTestGateway({ config: { allowOrigins: ['https://app.example'] }, options: { rendererDir: renderer } });
  });
  afterAll(async () => {
    await t.close();
    rmSync(renderer, { recursive: true, force: true });
    rmSync(join(tmpdir(), 'autoclaw-outside.txt'), { force: true });
  });

  it('serves /healthz and /readyz without auth', async () => {
    const health = await fetch(`${t.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true });
  });

  it('sends strict security headers everywhere', async () => {
    for (const path of ['/', '/healthz', '/nope.js']) {
      const res = await fetch(`${t.url}${path}`);
      expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    }
  });

  it('serves the WebChat files, client routes, and nothing outside its folder', async () => {
    const index = await fetch(`${t.url}/`);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(await index.text()).toContain('WebChat');
    const asset = await fetch(`${t.url}/assets/app-123.js`);
    expect(asset.headers.get('content-type')).toContain('text/javascript');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(await (await fetch(`${t.url}/settings`)).text()).toContain('WebChat');
    expect((await fetch(`${t.url}/missing.css`)).status).toBe(404);
    expect((await fetch(`${t.url}/..%2fautoclaw-outside.txt`)).status).toBe(404);
    expect((await fetch(`${t.url}/%2e%2e/autoclaw-outside.txt`)).status).toBe(404);
    const unknownApi = await fetch(`${t.url}/auth/nope`);
    expect(unknownApi.status).toBe(404);
    expect(await unknownApi.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'not found' } });
  });

  it('pairs a device once with a code from the CLI', async () => {
    const key = generateDeviceKey();
    const { code } = issuePairingCode(t.gateway.store, Date.now());
    const res = await post(`${t.url}/auth/pair`, await pairBody(t.url, key, code));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deviceId: key.deviceId });
    const socket = await openAuthedSocket(t.url, key);
    expect((await socket.call('query', 'auth.whoami'))['result']).toMatchObject({ data: { kind: 'client', name: 'Browser' } });
    socket.ws.close();

    const again = await post(`${t.url}/auth/pair`, await pairBody(t.url, generateDeviceKey(), code));
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
  });

  it('answers bad pairing requests with typed errors and no 5xx', async () => {
    const before = t.gateway.store.dump();
    const wrong = await post(`${t.url}/auth/pair`, await pairBody(t.url, generateDeviceKey(), 'ZZZZ-ZZZZ'));
    expect(wrong.status).toBe(401);
    const malformed = await post(`${t.url}/auth/pair`, '{"pairingCode":');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    const badShape = await post(`${t.url}/auth/pair`, { pairingCode: 1 });
    expect(badShape.status).toBe(400);
    const huge = await post(`${t.url}/auth/pair`, { pairingCode: 'x'.repeat(200_000) });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    expect(t.gateway.store.dump()).toBe(before);
  });

  it('refuses foreign origins on /auth/* and on the WebSocket upgrade (403), and allows its own and --allow-origin ones', async () => {
    const before = t.gateway.store.dump();
    const challenge = await fetch(`${t.url}/auth/challenge`, { headers: { origin: FOREIGN } });
    expect(challenge.status).toBe(403);
    expect(await challenge.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    const { code } = issuePairingCode(t.gateway.store, Date.now());
    const afterCode = t.gateway.store.dump();
    const pair = await post(`${t.url}/auth/pair`, await pairBody(t.url, generateDeviceKey(), code), { origin: FOREIGN });
    expect(pair.status).toBe(403);
    await expect(openRawSocket(t.wsUrl, { origin: FOREIGN })).rejects.toMatchObject({ status: 403 });
    await expect(openRawSocket(t.wsUrl, { origin: 'null' })).rejects.toMatchObject({ status: 403 });
    expect(t.gateway.store.dump()).toBe(afterCode);
    expect(before).not.toBe(afterCode);

    for (const origin of [t.url, t.url.replace('127.0.0.1', 'localhost'), 'https://app.example']) {
      expect((await fetch(`${t.url}/auth/challenge`, { headers: { origin } })).status).toBe(200);
      const socket = await openRawSocket(t.wsUrl, { origin });
      socket.ws.close();
      await socket.closed;
    }
    // The right host on another port is another origin.
    await expect(openRawSocket(t.wsUrl, { origin: 'http://127.0.0.1:1' })).rejects.toMatchObject({ status: 403 });
  });

  it('refuses upgrades on other paths', async () => {
    await expect(openRawSocket(t.wsUrl.replace('/trpc', '/other'))).rejects.toMatchObject({ status: 404 });
  });
});

describe('without a WebChat build', () => {
  it('says how to build it', async () => {
    const t = await startTestGateway();
    try {
      const res = await fetch(`${t.url}/`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('npm run build');
    } finally {
      await t.close();
    }
  });
});
