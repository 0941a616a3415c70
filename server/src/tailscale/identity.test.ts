import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTailscaleLocalApiServer, type TailscaleLocalApiServer } from '../testing/tailscale-localapi-server';
import { createTailscaleIdentityCheck, forwardedClient, tailscaleOnRequest, type TailscaleIdentityCheck } from './identity';
import { createLocalApiClient } from './localapi-client';

let dir: string;
let server: TailscaleLocalApiServer;
let check: TailscaleIdentityCheck;
let clock = 0;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ts-id-'));
  const socketPath = join(dir, 'tailscaled.sock');
  server = await startTailscaleLocalApiServer({ socketPath });
  server.addPeer('100.64.0.1', { Node: { ID: 1, Name: 'alice-laptop.tail1234.ts.net.', Tags: null }, UserProfile: { ID: 1, LoginName: 'Alice@Example.com' } });
  server.addPeer('100.64.0.2', { Node: { ID: 2, Name: 'bob-phone.tail1234.ts.net.', Tags: [] }, UserProfile: { ID: 2, LoginName: 'bob@example.com' } });
  server.addPeer('100.64.0.3', { Node: { ID: 3, Name: 'ci.tail1234.ts.net.', Tags: ['tag:ci'] }, UserProfile: { ID: 9, LoginName: 'tagged-devices' } });
  clock = 1_000;
  check = createTailscaleIdentityCheck({
    localapi: createLocalApiClient({ transport: { kind: 'unix', socketPath } }),
    ownerLogin: 'alice@example.com',
    now: () => clock,
  });
});
afterEach(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const serve = (ip: string, extra: Record<string, string> = {}) => ({
  remoteAddress: '127.0.0.1',
  headers: { 'x-forwarded-for': ip, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'box.tail1234.ts.net', ...extra },
});

describe('createTailscaleIdentityCheck', () => {
  it('leaves requests that did not come through Serve to device auth', async () => {
    expect(await check.check({ remoteAddress: '127.0.0.1', headers: {} })).toEqual({ allow: true, via: 'direct' });
    expect(await check.check({ remoteAddress: '10.0.0.9', headers: {} })).toEqual({ allow: true, via: 'direct' });
    expect(server.requests).toHaveLength(0);
  });

  it('allows the owner (case-insensitive) after whois of the forwarded address', async () => {
    const d = await check.check(serve('100.64.0.1', { 'tailscale-user-login': 'alice@example.com' }));
    expect(d).toEqual({ allow: true, via: 'serve', login: 'alice@example.com', node: 'alice-laptop.tail1234.ts.net' });
    expect(server.requests.at(-1)?.path).toBe('/localapi/v0/whois');
  });

  it('refuses another user, a tagged device and an unknown address', async () => {
    const bob = await check.check(serve('100.64.0.2'));
    expect(bob).toMatchObject({ allow: false, status: 403 });
    expect(bob.allow ? '' : bob.reason).toContain('bob@example.com is not the owner');
    expect(await check.check(serve('100.64.0.3'))).toMatchObject({ allow: false, status: 403 });
    expect(await check.check(serve('not-an-ip'))).toMatchObject({ allow: false, status: 403 });
    const stranger = await check.check(serve('100.64.0.99'));
    expect(stranger.allow ? '' : stranger.reason).toContain('not a device on this tailnet');
  });

  it('refuses a forged Tailscale-User-Login header that disagrees with whois', async () => {
    const d = await check.check(serve('100.64.0.2', { 'tailscale-user-login': 'alice@example.com' }));
    expect(d).toMatchObject({ allow: false, status: 403 });
  });

  it('refuses forwarding headers from a non-loopback peer and Serve requests without X-Forwarded-For', async () => {
    expect(await check.check({ remoteAddress: '10.1.2.3', headers: { 'x-forwarded-for': '100.64.0.1' } })).toMatchObject({ allow: false });
    expect(await check.check({ remoteAddress: '127.0.0.1', headers: { 'tailscale-user-login': 'alice@example.com' } })).toMatchObject({ allow: false });
  });

  it('uses the last X-Forwarded-For hop (the one Serve added)', () => {
    expect(forwardedClient({ 'x-forwarded-for': '100.64.0.1, 100.64.0.2' })).toBe('100.64.0.2');
  });

  it('caches whois for a while, then asks again', async () => {
    await check.check(serve('100.64.0.1'));
    await check.check(serve('100.64.0.1'));
    expect(server.requests.filter((r) => r.path.endsWith('whois'))).toHaveLength(1);
    clock += 31_000;
    await check.check(serve('100.64.0.1'));
    expect(server.requests.filter((r) => r.path.endsWith('whois'))).toHaveLength(2);
  });

  it('fails closed (503) when tailscaled cannot answer', async () => {
    await server.close();
    const d = await check.check(serve('100.64.0.1'));
    expect(d).toMatchObject({ allow: false, status: 503 });
    server = await startTailscaleLocalApiServer({ socketPath: join(dir, 'again.sock') });
  });
});

describe('tailscaleOnRequest (fastify hook)', () => {
  it('refuses non-owners before the route runs and lets the owner through', async () => {
    const app = Fastify();
    let ran = 0;
    app.addHook('onRequest', tailscaleOnRequest(check));
    app.get('/x', async () => {
      ran++;
      return { ok: true };
    });
    try {
      const denied = await app.inject({ url: '/x', headers: { 'x-forwarded-for': '100.64.0.2' } });
      expect(denied.statusCode).toBe(403);
      expect(denied.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
      expect(ran).toBe(0);
      const allowed = await app.inject({ url: '/x', headers: { 'x-forwarded-for': '100.64.0.1' } });
      expect(allowed.statusCode).toBe(200);
      expect(ran).toBe(1);
    } finally {
      await app.close();
    }
  });
});
