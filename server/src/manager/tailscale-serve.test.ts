/**
 * `autoclaw manager --tailscale` with the local driver, through the real
 * config parser and startManager, against a LocalAPI test server on a Unix
 * socket: a provisioned instance is published with Tailscale Serve (HTTPS on
 * the node's MagicDNS name, its port → the gateway on loopback), devices get
 * `https://NAME:PORT` with their pairing ticket, the gateway checks Serve
 * requests against the owner's tailnet identity, and deleting the instance
 * removes its Serve entry.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDeviceKey } from '../security';
import { startTailscaleLocalApiServer, RUNNING_STATUS, type TailscaleLocalApiServer } from '../testing';
import { parseManagerConfig } from './config';
import { bundleGatewayCommand, killGateways, waitFor } from './drivers/local/test-support';
import { createLogger } from './gateway-parts';
import { startManager } from './server';
import { startTestManager, type TestManager } from './test-kit';

const NODE = 'box.tail1234.ts.net';

let root: string;
let socketPath: string;
let localapi: TailscaleLocalApiServer;
let t: TestManager;
let dispose: () => void;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'autoclaw-mgr-serve-'));
  socketPath = join(root, 'tailscaled.sock');
  localapi = await startTailscaleLocalApiServer({ socketPath });
  localapi.addPeer('100.64.0.1', { Node: { ID: 1, Name: 'owner-laptop.tail1234.ts.net.' }, UserProfile: { ID: 1, LoginName: 'owner@example.com' } });
  localapi.addPeer('100.64.0.2', { Node: { ID: 2, Name: 'mallory.tail1234.ts.net.' }, UserProfile: { ID: 2, LoginName: 'mallory@example.com' } });
  // Someone else's Serve entry on this node must survive.
  localapi.replaceServeConfig({ TCP: { '8443': { HTTPS: true } }, Web: { [`${NODE}:8443`]: { Handlers: { '/': { Proxy: 'http://127.0.0.1:3000' } } } } });
  const bundle = await bundleGatewayCommand();
  dispose = bundle.dispose;
  const config = parseManagerConfig(['--data', join(root, 'data'), '--port', '0', '--tailscale', '--tailscale-socket', socketPath], {});
  expect(config.tailscale).toEqual({ socketPath, tags: ['tag:autoclaw'] });
  t = await startTestManager({ dir: config.dataDir, config, options: { instances: { localDriver: { command: bundle.command }, stopGatewaysOnClose: true } } });
}, 60_000);

afterAll(async () => {
  if (t) {
    killGateways(t.dir);
    await t.close();
  }
  dispose?.();
  await localapi?.close();
  rmSync(root, { recursive: true, force: true });
});

const serveHeaders = (ip: string) => ({ 'x-forwarded-for': ip, 'x-forwarded-proto': 'https', 'x-forwarded-host': NODE });

describe('local instances on the tailnet', () => {
  it('publishes a new instance with Serve, gives devices its tailnet URL, and unpublishes it on delete', async () => {
    const token = (await t.setupOwner('owner@example.com')).token;
    const api = t.client(token);
    const created = await api.instances.create.mutate();
    const running = await waitFor('running', async () => {
      const mine = await api.instances.mine.query();
      return mine?.state === 'running' ? mine : null;
    }, 30_000);
    const port = running.port;
    if (port === undefined) throw new Error('no port');

    const key = `${NODE}:${port}`;
    const config = localapi.serveConfig as { TCP?: Record<string, unknown>; Web?: Record<string, { Handlers: Record<string, { Proxy?: string }> }> };
    expect(config.Web?.[key]?.Handlers['/']?.Proxy).toBe(`http://127.0.0.1:${port}`);
    expect(config.TCP?.[String(port)]).toEqual({ HTTPS: true });
    expect(config.Web?.[`${NODE}:8443`]).toBeDefined();

    const device = generateDeviceKey();
    const ticket = await api.instances.pairDevice.mutate({ instanceId: created.id, publicKey: device.publicKey, deviceName: 'laptop' });
    expect(ticket.gatewayUrl).toBe(`https://${NODE}:${port}`);

    // The gateway was told its owner and the socket: Serve requests are checked against the tailnet identity.
    const gateway = running.url ?? '';
    expect((await fetch(`${gateway}/healthz`, { headers: serveHeaders('100.64.0.1') })).status).toBe(200);
    expect((await fetch(`${gateway}/healthz`, { headers: serveHeaders('100.64.0.2') })).status).toBe(403);
    expect((await fetch(`${gateway}/healthz`)).status).toBe(200);

    await api.instances.delete.mutate({ instanceId: created.id });
    await waitFor('the instance to go', async () => (await api.instances.mine.query()) === null, 20_000);
    const after = localapi.serveConfig as typeof config;
    expect(after.Web?.[key]).toBeUndefined();
    expect(after.TCP?.[String(port)]).toBeUndefined();
    expect(after.Web?.[`${NODE}:8443`]?.Handlers['/']?.Proxy).toBe('http://127.0.0.1:3000');
  }, 60_000);
});

describe('manager --tailscale on a machine that is not on a tailnet', () => {
  it('refuses to start and says what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'autoclaw-mgr-noserve-'));
    const quiet = { logger: createLogger({ write: () => undefined }), keychain: null };
    try {
      const missing = parseManagerConfig(['--data', dir, '--port', '0', '--tailscale', '--tailscale-socket', join(dir, 'none.sock')], {});
      await expect(startManager(missing, quiet)).rejects.toThrow(/Tailscale is not reachable on this machine/);
      localapi.setStatus({ ...RUNNING_STATUS, BackendState: 'NeedsLogin' });
      const loggedOut = parseManagerConfig(['--data', dir, '--port', '0', '--tailscale', '--tailscale-socket', socketPath], {});
      await expect(startManager(loggedOut, quiet)).rejects.toThrow(/run "tailscale up" first/);
    } finally {
      localapi.setStatus(RUNNING_STATUS);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
