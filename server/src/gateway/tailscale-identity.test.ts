/**
 * The gateway with `--tailscale-owner`: requests that Tailscale Serve
 * forwarded (loopback + X-Forwarded-For / Tailscale-User-* headers) must come
 * from the owner's own device, checked with whois against a LocalAPI test
 * server on a Unix socket — on HTTP and on the WebSocket upgrade, before any
 * socket exists — and device auth still applies on top. Requests without
 * forwarding headers are left to device auth, as before.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WS_CLOSE_UNAUTHORIZED } from '@autoclaw/shared';
import { startTailscaleLocalApiServer, type TailscaleLocalApiServer } from '../testing';
import { parseGatewayConfig, UsageError } from './config';
import { DATA_KEY_FILE } from './data-dir';
import { getChallenge, signedParams, startTestGateway, type TestGateway } from './test-kit';

const OWNER_IP = '100.64.0.1';
const BOB_IP = '100.64.0.2';
const TAGGED_IP = '100.64.0.3';

let root: string;
let socketPath: string;
let localapi: TailscaleLocalApiServer;
let t: TestGateway;

function serveHeaders(ip: string, login?: string): Record<string, string> {
  return {
    'x-forwarded-for': ip,
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'box.tail1234.ts.net',
    ...(login === undefined ? {} : { 'tailscale-user-login': login }),
  };
}

/** Opens /trpc with these headers: the open socket, or the HTTP status that refused the upgrade. */
function upgrade(headers: Record<string, string>): Promise<{ ws: WebSocket; closed: Promise<number> } | number> {
  const ws = new WebSocket(`${t.wsUrl}?connectionParams=1`, { headers });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, closed }));
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

/** Sends signed connectionParams and one call: true when the device got an answer. */
async function authenticate(ws: WebSocket, params: unknown): Promise<boolean> {
  ws.send(JSON.stringify({ method: 'connectionParams', data: params }));
  ws.send(JSON.stringify({ id: 1, method: 'query', params: { path: 'auth.whoami' } }));
  return new Promise((resolve) => {
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { id?: number; result?: unknown };
      if (msg.id === 1) resolve(msg.result !== undefined);
    });
    ws.once('close', () => resolve(false));
  });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'autoclaw-gw-ts-'));
  socketPath = join(root, 'tailscaled.sock');
  localapi = await startTailscaleLocalApiServer({ socketPath });
  localapi.addPeer(OWNER_IP, { Node: { ID: 1, Name: 'alice-laptop.tail1234.ts.net.', Tags: null }, UserProfile: { ID: 1, LoginName: 'alice@example.com' } });
  localapi.addPeer(BOB_IP, { Node: { ID: 2, Name: 'bob-phone.tail1234.ts.net.' }, UserProfile: { ID: 2, LoginName: 'bob@example.com' } });
  localapi.addPeer(TAGGED_IP, { Node: { ID: 3, Name: 'ci.tail1234.ts.net.', Tags: ['tag:ci'] }, UserProfile: { ID: 9, LoginName: 'tagged-devices' } });
  const keyPath = join(root, 'data-key');
  writeFileSync(keyPath, Buffer.alloc(32, 5), { mode: 0o600 });
  const dataDir = join(root, 'data');
  mkdirSync(dataDir);
  // The flags a managed instance gets (the socket as the Kubernetes driver passes it, in the environment).
  const { env: _env, ...flags } = parseGatewayConfig(
    ['--data', dataDir, '--port', '0', '--tailscale-owner', 'Alice@Example.com', '--data-key-file', keyPath],
    { AUTOCLAW_TAILSCALE_SOCKET: socketPath },
  );
  expect(flags.tailscale).toEqual({ ownerLogin: 'alice@example.com', socketPath });
  t = await startTestGateway({ dir: dataDir, keepDir: true, config: flags, options: { authFreeFailures: 1_000 } });
});

afterAll(async () => {
  await t?.close();
  await localapi?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('gateway behind Tailscale Serve', () => {
  it('took its data key from --data-key-file and wrote none beside the data', () => {
    expect(existsSync(join(t.dir, DATA_KEY_FILE))).toBe(false);
  });

  it('lets the owner through (after whois of the forwarded address) and still asks for device auth', async () => {
    const res = await fetch(`${t.url}/healthz`, { headers: serveHeaders(OWNER_IP, 'alice@example.com') });
    expect(res.status).toBe(200);
    expect(localapi.requests.some((r) => r.path === '/localapi/v0/whois')).toBe(true);
    const challenge = await fetch(`${t.url}/auth/challenge`, { headers: serveHeaders(OWNER_IP) });
    expect(challenge.status).toBe(200);

    const key = t.addDevice('laptop');
    const good = await upgrade(serveHeaders(OWNER_IP));
    if (typeof good === 'number') throw new Error(`upgrade refused: ${good}`);
    expect(await authenticate(good.ws, signedParams(key, (await getChallenge(t.url)).nonce))).toBe(true);
    good.ws.close();
    await good.closed;

    // The owner's device without a paired key is refused by device auth, as anywhere else.
    const unpaired = await upgrade(serveHeaders(OWNER_IP));
    if (typeof unpaired === 'number') throw new Error(`upgrade refused: ${unpaired}`);
    expect(await authenticate(unpaired.ws, { deviceId: 'nobody', nonce: 'x', timestamp: '0', signature: 'y' })).toBe(false);
    expect(await unpaired.closed).toBe(WS_CLOSE_UNAUTHORIZED);
  });

  it('refuses another user, a tagged device, an unknown address and a login header that disagrees with whois (403)', async () => {
    for (const headers of [serveHeaders(BOB_IP), serveHeaders(TAGGED_IP), serveHeaders('100.64.0.77'), serveHeaders(BOB_IP, 'alice@example.com')]) {
      const res = await fetch(`${t.url}/healthz`, { headers });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
      expect(await upgrade(headers)).toBe(403);
    }
    const bob = await fetch(`${t.url}/auth/challenge`, { headers: serveHeaders(BOB_IP) });
    expect(((await bob.json()) as { error: { message: string } }).error.message).toContain('bob@example.com is not the owner');
  });

  it('leaves requests without forwarding headers to device auth', async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    const key = t.addDevice('direct');
    const direct = await upgrade({});
    if (typeof direct === 'number') throw new Error(`upgrade refused: ${direct}`);
    expect(await authenticate(direct.ws, signedParams(key, (await getChallenge(t.url)).nonce))).toBe(true);
    direct.ws.close();
    await direct.closed;
  });

  it('fails closed when tailscaled does not answer (503)', async () => {
    await localapi.close();
    // An address whois has not answered for yet (answers are cached for a while).
    const headers = serveHeaders('100.64.0.50');
    const res = await fetch(`${t.url}/healthz`, { headers });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: 'NOT_CONFIGURED' } });
    expect(await upgrade(headers)).toBe(503);
    // Direct requests do not need tailscaled.
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });
});

describe('gateway flags for managed instances', () => {
  it('takes the data key from one place only, and never from inside the data directory', () => {
    expect(() => parseGatewayConfig(['--data', '/d', '--data-key-fd', '3', '--data-key-file', '/k'], {})).toThrow(/use one/);
    expect(() => parseGatewayConfig(['--data', '/d', '--data-key-file', '/d/keys/k'], {})).toThrow(/must not be inside the data directory/);
    expect(parseGatewayConfig(['--data', '/d', '--data-key-file', '/run/k'], {}).dataKeyFile).toBe('/run/k');
  });

  it('needs an owner for the Tailscale check; the socket comes from the flag, else the environment', () => {
    expect(() => parseGatewayConfig(['--data', '/d', '--tailscale-socket', '/s'], {})).toThrow(UsageError);
    expect(() => parseGatewayConfig(['--data', '/d', '--tailscale-owner', 'not a login'], {})).toThrow(/tailnet login/);
    expect(parseGatewayConfig(['--data', '/d'], { AUTOCLAW_TAILSCALE_SOCKET: '/s' }).tailscale).toBeUndefined();
    expect(parseGatewayConfig(['--data', '/d', '--tailscale-owner', 'a@b', '--tailscale-socket', '/f'], { AUTOCLAW_TAILSCALE_SOCKET: '/e' }).tailscale).toEqual({
      ownerLogin: 'a@b',
      socketPath: '/f',
    });
    expect(parseGatewayConfig(['--data', '/d', '--tailscale-owner', 'a@b'], {}).tailscale).toEqual({ ownerLogin: 'a@b' });
  });
});
