/**
 * The manager over the wire: tRPC over HTTP and WebSocket against a real
 * server on port 0 — sign-in tokens, sockets that close when their session
 * ends, the Origin allowlist, owner-only and operator-only procedures, the
 * setup page and security headers.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { MANAGER_WS_CLOSE_UNAUTHORIZED } from '@autoclaw/shared';
import { operatorKeyPath } from './paths';
import { findRunningManager } from './runtime-file';
import { rawCall, startTestManager } from './test-kit';
import type { TestManager } from './test-kit';

const PW = 'correct horse battery';

/** Opens a raw socket, sends connectionParams and one query; resolves with the first answer or the close code. */
function rawWs(url: string, params: Record<string, string> | null, opts: { origin?: string } = {}): Promise<{ close?: number; status?: number; message?: Record<string, unknown> }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url}?connectionParams=1`, opts.origin ? { origin: opts.origin } : {});
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.once('open', () => {
      ws.send(JSON.stringify({ method: 'connectionParams', data: params }));
      ws.send(JSON.stringify({ id: 1, method: 'query', params: { path: 'auth.me' } }));
    });
    ws.on('message', (data) => {
      resolve({ message: JSON.parse(data.toString()) as Record<string, unknown> });
      ws.close();
    });
    ws.once('close', (code) => resolve({ close: code }));
    ws.once('error', () => undefined);
  });
}

describe('the manager over HTTP and WebSocket', () => {
  let t: TestManager;
  let ownerToken: string;
  let rendererDir: string;

  beforeAll(async () => {
    t = await startTestManager({ config: { signup: 'open', allowOrigins: ['https://app.example.com'] } });
    rendererDir = join(t.dir, 'no-renderer');
    ownerToken = (await t.setupOwner()).token;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('writes its runtime file and answers health with strict security headers', async () => {
    expect(findRunningManager(t.dir)).toMatchObject({ pid: process.pid, url: t.url, tlsCertPath: null });
    const res = await fetch(`${t.url}/healthz`);
    expect(await res.json()).toMatchObject({ ok: true, service: 'autoclaw-manager' });
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await (await fetch(`${t.url}/readyz`)).json()).toEqual({ ready: true });
    const health = await t.client().health.query();
    expect(health).toMatchObject({ ok: true, signup: 'open', managerPublicKey: t.manager.services.keys.publicKey });
  });

  it('serves the renderer at /setup (never cached), or says how to build it', async () => {
    const missing = await fetch(`${t.url}/setup?token=stp_x`);
    expect(missing.status).toBe(503);
    expect(await missing.text()).toMatch(/npm run build/);
    mkdirSync(rendererDir, { recursive: true });
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>AutoClaw</title>');
    const page = await fetch(`${t.url}/setup?token=stp_x`);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(await page.text()).toContain('<title>AutoClaw</title>');
    expect((await fetch(`${t.url}/trpc`)).status).toBe(404);
  });

  it('authenticates HTTP calls with the bearer token; owner-only procedures refuse members', async () => {
    const owner = t.client(ownerToken);
    expect(await owner.auth.me.query()).toMatchObject({ email: 'owner@example.com', role: 'owner' });
    const member = await t.client().auth.signUp.mutate({ email: 'member@example.com', password: PW });
    await expect(t.client(member.token).invites.create.mutate({})).rejects.toMatchObject({ data: { appCode: 'FORBIDDEN', httpStatus: 403 } });
    await expect(t.client(member.token).audit.list.query()).rejects.toMatchObject({ data: { appCode: 'FORBIDDEN' } });
    await expect(t.client().auth.me.query()).rejects.toMatchObject({ data: { appCode: 'UNAUTHORIZED', httpStatus: 401 } });
    await expect(t.client('acs_' + 'x'.repeat(43)).auth.me.query()).rejects.toMatchObject({ data: { appCode: 'UNAUTHORIZED' } });
    const invite = await owner.invites.create.mutate({ email: 'friend@example.com' });
    expect(invite.code).toMatch(/^inv_/);
    const entries = await owner.audit.list.query({ limit: 500 });
    expect(entries.map((e) => e.action)).toEqual(expect.arrayContaining(['auth.setup', 'auth.signUp', 'invite.create']));
    expect(await owner.audit.verify.query()).toMatchObject({ ok: true });
  });

  it('signs a socket in with connectionParams; the socket outlives refreshes and closes when its session ends', async () => {
    const signed = await t.client().auth.signIn.mutate({ email: 'owner@example.com', password: PW });
    const ws = t.wsClient(signed.token);
    expect(await ws.client.auth.me.query()).toMatchObject({ email: 'owner@example.com' });
    const next = await t.client().auth.refresh.mutate({ token: signed.token });
    expect(await ws.client.auth.me.query()).toMatchObject({ email: 'owner@example.com' });
    await t.client(next.token).auth.signOut.mutate();
    expect(await ws.closed).toBe(MANAGER_WS_CLOSE_UNAUTHORIZED);
    await expect(t.client(next.token).auth.me.query()).rejects.toMatchObject({ data: { appCode: 'UNAUTHORIZED' } });
  });

  it('a signed-out socket reaches only public procedures; a bad token closes it', async () => {
    const anon = t.wsClient();
    expect(await anon.client.auth.setupStatus.query()).toMatchObject({ open: false });
    await expect(anon.client.auth.me.query()).rejects.toMatchObject({ data: { appCode: 'UNAUTHORIZED' } });
    await anon.close();
    expect(await rawWs(t.wsUrl, { token: 'acs_' + 'y'.repeat(43) })).toEqual({ close: MANAGER_WS_CLOSE_UNAUTHORIZED });
    expect(await rawWs(t.wsUrl, { token: ownerToken })).toMatchObject({ message: { id: 1, result: { type: 'data', data: { email: 'owner@example.com' } } } });
  });

  it('refuses other origins on HTTP and on the WebSocket upgrade; allows its own and --allow-origin', async () => {
    const evil = await rawCall(t.url, 'GET', 'health', { headers: { origin: 'https://evil.example' } });
    expect(evil.status).toBe(403);
    expect(evil.body).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect((await rawCall(t.url, 'GET', 'health', { headers: { origin: t.url } })).status).toBe(200);
    expect((await rawCall(t.url, 'GET', 'health', { headers: { origin: 'https://app.example.com' } })).status).toBe(200);
    expect((await rawCall(t.url, 'GET', 'health', { headers: { origin: 'app://autoclaw' } })).status).toBe(200);
    expect((await rawCall(t.url, 'GET', 'health', { headers: { origin: 'app://evil' } })).status).toBe(403);
    expect(await rawWs(t.wsUrl, { token: ownerToken }, { origin: 'https://evil.example' })).toEqual({ status: 403 });
    expect(await rawWs(t.wsUrl, { token: ownerToken }, { origin: 'http://localhost:1' })).toEqual({ status: 403 });
    expect(await rawWs(t.wsUrl, { token: ownerToken }, { origin: t.url.replace('127.0.0.1', 'localhost') })).toMatchObject({ message: { id: 1 } });
  });

  it('operator procedures need DIR/operator.key', async () => {
    const key = readFileSync(operatorKeyPath(t.dir)).toString('base64url');
    const input = { email: 'cli-made@example.com', password: PW };
    const refused = await rawCall(t.url, 'POST', 'operator.createUser', { input, headers: { authorization: `Operator ${'A'.repeat(43)}` } });
    expect(refused).toMatchObject({ status: 401, body: { error: { data: { appCode: 'UNAUTHORIZED' } } } });
    expect((await rawCall(t.url, 'POST', 'operator.createUser', { input, headers: { authorization: `Bearer ${ownerToken}` } })).status).toBe(401);
    const made = await rawCall(t.url, 'POST', 'operator.createUser', { input, headers: { authorization: `Operator ${key}` } });
    expect(made).toMatchObject({ status: 200, body: { result: { data: { email: 'cli-made@example.com', role: 'member' } } } });
    expect((await t.manager.services.audit.list({ limit: 500 })).at(-1)).toMatchObject({ actor: 'operator', action: 'user.create' });
  });

  it('rate-limited sign-in travels as RATE_LIMITED with the wait (HTTP 429)', async () => {
    let last: Awaited<ReturnType<typeof rawCall>> | null = null;
    for (let i = 0; i < 6; i++) {
      last = await rawCall(t.url, 'POST', 'auth.signIn', { input: { email: 'member@example.com', password: 'wrong password' } });
    }
    expect(last).toMatchObject({
      status: 429,
      body: { error: { message: expect.stringMatching(/too many failed sign-ins/), data: { appCode: 'RATE_LIMITED', details: { retryAfterMs: expect.any(Number) } } } },
    });
  });
});
