import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '@autoclaw/shared';
import { RUNNING_STATUS, startTailscaleLocalApiServer, type TailscaleLocalApiServer } from '../testing/tailscale-localapi-server';
import { createLocalApiClient, type LocalApiClient } from './localapi-client';
import { publishInstance, unpublishInstance } from './serve';
import { sidecarServeConfig, withoutWebProxy, withWebProxy } from './serve-config';

let dir: string;
let server: TailscaleLocalApiServer;
let localapi: LocalApiClient;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ts-serve-'));
  const socketPath = join(dir, 'tailscaled.sock');
  server = await startTailscaleLocalApiServer({ socketPath });
  localapi = createLocalApiClient({ transport: { kind: 'unix', socketPath } });
});
afterEach(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const OTHER = {
  TCP: { '443': { HTTPS: true }, '22': { TCPForward: '127.0.0.1:22' } },
  Web: { 'box.tail1234.ts.net:443': { Handlers: { '/grafana': { Proxy: 'http://127.0.0.1:3000' } } } },
  Services: { 'svc:db': { TCP: { '5432': { TCPForward: '127.0.0.1:5432' } } } },
};

describe('publishInstance', () => {
  it('adds HTTPS 443 on the MagicDNS name → loopback port, keeping other entries', async () => {
    server.replaceServeConfig(OTHER);
    const published = await publishInstance({ localapi, port: 18789 });
    expect(published).toEqual({ url: 'https://box.tail1234.ts.net', host: 'box.tail1234.ts.net', httpsPort: 443 });
    const config = server.serveConfig as typeof OTHER & { Web: Record<string, { Handlers: Record<string, { Proxy: string }> }> };
    expect(config.Web['box.tail1234.ts.net:443']?.Handlers).toEqual({ '/grafana': { Proxy: 'http://127.0.0.1:3000' }, '/': { Proxy: 'http://127.0.0.1:18789' } });
    expect(config.TCP).toEqual(OTHER.TCP);
    expect(config.Services).toEqual(OTHER.Services);
  });

  it('is idempotent: a second publish writes nothing', async () => {
    await publishInstance({ localapi, port: 18789 });
    await publishInstance({ localapi, port: 18789 });
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('refuses to take over a spot another service uses', async () => {
    await publishInstance({ localapi, port: 18789 });
    const err = await publishInstance({ localapi, port: 18790 }).catch((e: unknown) => e);
    expect(AppError.is(err, 'CONFLICT')).toBe(true);
    const other = await publishInstance({ localapi, port: 18790, httpsPort: 8443 });
    expect(other.url).toBe('https://box.tail1234.ts.net:8443');
  });

  it('retries when another writer changed the config in between (412)', async () => {
    const racing: LocalApiClient = {
      ...localapi,
      async getServeConfig() {
        const got = await localapi.getServeConfig();
        if (server.requests.filter((r) => r.method === 'GET' && r.path.endsWith('serve-config')).length === 1) {
          server.replaceServeConfig(OTHER); // someone else writes after our read
        }
        return got;
      },
    };
    await publishInstance({ localapi: racing, port: 18789 });
    const posts = server.requests.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(2);
    const web = (server.serveConfig as { Web: Record<string, { Handlers: Record<string, unknown> }> }).Web;
    expect(Object.keys(web['box.tail1234.ts.net:443']?.Handlers ?? {}).sort()).toEqual(['/', '/grafana']);
  });

  it('explains when this node is not connected', async () => {
    server.setStatus({ ...RUNNING_STATUS, BackendState: 'NeedsLogin', Self: null });
    const err = await publishInstance({ localapi, port: 18789 }).catch((e: unknown) => e);
    expect(AppError.is(err, 'NOT_CONFIGURED')).toBe(true);
    expect((err as AppError).message).toContain('NeedsLogin');
  });
});

describe('unpublishInstance', () => {
  it('removes only our mount and drops the port when nothing else uses it', async () => {
    await publishInstance({ localapi, port: 18789 });
    await unpublishInstance({ localapi, port: 18789 });
    expect(server.serveConfig).toEqual({});
    server.replaceServeConfig(OTHER);
    await publishInstance({ localapi, port: 18789 });
    await unpublishInstance({ localapi, port: 18789 });
    expect(server.serveConfig).toEqual(OTHER);
  });

  it('is a no-op when the mount points elsewhere or is absent', async () => {
    server.replaceServeConfig(OTHER);
    await unpublishInstance({ localapi, port: 18789 });
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });
});

describe('serve-config edits', () => {
  it('builds the sidecar config with ${TS_CERT_DOMAIN}', () => {
    expect(sidecarServeConfig(18789)).toEqual({
      TCP: { '443': { HTTPS: true } },
      Web: { '${TS_CERT_DOMAIN}:443': { Handlers: { '/': { Proxy: 'http://127.0.0.1:18789' } } } },
    });
  });

  it('does not mutate its input and refuses a TCP-forwarded port', () => {
    const input = { TCP: { '443': { TCPForward: '127.0.0.1:9' } } };
    expect(() => withWebProxy(input, { host: 'h', httpsPort: 443, mount: '/', target: 'http://127.0.0.1:1' })).toThrow(AppError);
    const empty = {};
    const next = withWebProxy(empty, { host: 'h', httpsPort: 443, mount: '/', target: 'http://127.0.0.1:1' });
    expect(empty).toEqual({});
    expect(withoutWebProxy(next, { host: 'h', httpsPort: 443, mount: '/', target: 'http://127.0.0.1:1' })).toEqual({});
  });
});
