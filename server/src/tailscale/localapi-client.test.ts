import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '@autoclaw/shared';
import { startTailscaleLocalApiServer, type TailscaleLocalApiServer } from '../testing/tailscale-localapi-server';
import { createLocalApiClient } from './localapi-client';
import { LINUX_SOCKET_PATH, MACOS_OSS_SOCKET_PATH, WINDOWS_PIPE_PATH, resolveLocalApiTransport } from './localapi-transport';

let dir: string;
let server: TailscaleLocalApiServer | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ts-localapi-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function caught(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('LocalAPI over a Unix socket', () => {
  it('reads status with Host local-tailscaled.sock', async () => {
    const socketPath = join(dir, 'tailscaled.sock');
    server = await startTailscaleLocalApiServer({ socketPath });
    const client = createLocalApiClient({ transport: resolveLocalApiTransport({ platform: 'linux', socketPath }) });
    const status = await client.status();
    expect(status.BackendState).toBe('Running');
    expect(status.Self?.DNSName).toBe('box.tail1234.ts.net.');
    expect(status.CurrentTailnet?.Name).toBe('alice@example.com');
    expect(server.requests[0]).toMatchObject({ method: 'GET', path: '/localapi/v0/status', host: 'local-tailscaled.sock' });
  });

  it('answers whois for IP and IP:port, NOT_FOUND for strangers, BAD_REQUEST for garbage', async () => {
    const socketPath = join(dir, 's.sock');
    server = await startTailscaleLocalApiServer({ socketPath });
    server.addPeer('100.64.0.7', { Node: { ID: 7, Name: 'laptop.tail1234.ts.net.', Tags: null, Addresses: ['100.64.0.7/32'] }, UserProfile: { ID: 1, LoginName: 'alice@example.com' } });
    const client = createLocalApiClient({ transport: { kind: 'unix', socketPath } });
    expect((await client.whois('100.64.0.7')).UserProfile.LoginName).toBe('alice@example.com');
    expect((await client.whois('100.64.0.7:51234')).Node.Name).toBe('laptop.tail1234.ts.net.');
    const missing = await caught(client.whois('100.64.0.8:1'));
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toContain('no match for IP:port');
    expect((await caught(client.whois('not an ip'))).code).toBe('BAD_REQUEST');
  });

  it('reads and writes the serve config with ETag semantics', async () => {
    const socketPath = join(dir, 's.sock');
    server = await startTailscaleLocalApiServer({ socketPath });
    const client = createLocalApiClient({ transport: { kind: 'unix', socketPath } });
    const first = await client.getServeConfig();
    expect(first.config).toEqual({});
    expect(first.etag).toMatch(/^[0-9a-f]{64}$/);
    await client.setServeConfig({ TCP: { '443': { HTTPS: true } } }, first.etag);
    const second = await client.getServeConfig();
    expect(second.config).toEqual({ TCP: { '443': { HTTPS: true } } });
    expect(second.etag).not.toBe(first.etag);
    expect(server.requests.find((r) => r.method === 'POST')?.ifMatch).toBe(first.etag);
    const stale = await caught(client.setServeConfig({}, first.etag));
    expect(stale.code).toBe('CONFLICT');
    expect(server.serveConfig).toEqual({ TCP: { '443': { HTTPS: true } } });
  });

  it('maps daemon errors: 403 → FORBIDDEN, 500 JSON error → INTERNAL', async () => {
    const socketPath = join(dir, 's.sock');
    server = await startTailscaleLocalApiServer({ socketPath });
    const client = createLocalApiClient({ transport: { kind: 'unix', socketPath } });
    server.failNext('/localapi/v0/status', 403, 'status access denied');
    const denied = await caught(client.status());
    expect(denied.code).toBe('FORBIDDEN');
    expect(denied.message).toContain('status access denied');
    server.failNext('/localapi/v0/serve-config', 500, '{"error":"updating config: boom"}');
    const broken = await caught(client.getServeConfig());
    expect(broken.code).toBe('INTERNAL');
    expect(broken.message).toContain('updating config: boom');
  });

  it('says NOT_CONFIGURED with reason socket-missing when there is no daemon', async () => {
    const client = createLocalApiClient({ transport: { kind: 'unix', socketPath: join(dir, 'nothing.sock') } });
    const err = await caught(client.status());
    expect(err.code).toBe('NOT_CONFIGURED');
    expect(err.details?.reason).toBe('socket-missing');
  });

  it('says NOT_CONFIGURED with reason refused when the path is not a listening socket', async () => {
    const path = join(dir, 'stale.sock');
    writeFileSync(path, '');
    const err = await caught(createLocalApiClient({ transport: { kind: 'unix', socketPath: path } }).status());
    expect(err.code).toBe('NOT_CONFIGURED');
    expect(err.details?.reason).toBe('refused');
  });
});

describe('LocalAPI over TCP with the macOS app token', () => {
  it('sends the token as the Basic-auth password', async () => {
    server = await startTailscaleLocalApiServer({ token: 'sameuser-token-1' });
    const client = createLocalApiClient({ transport: { kind: 'tcp', port: server.port ?? 0, token: 'sameuser-token-1' } });
    expect((await client.status()).BackendState).toBe('Running');
    expect(server.requests[0]?.host).toBe('local-tailscaled.sock');
  });

  it('refuses a wrong token with FORBIDDEN and never puts the token in the message', async () => {
    server = await startTailscaleLocalApiServer({ token: 'right-token' });
    const err = await caught(createLocalApiClient({ transport: { kind: 'tcp', port: server.port ?? 0, token: 'wrong-token-xyz' } }).status());
    expect(err.code).toBe('FORBIDDEN');
    expect(err.message).not.toContain('wrong-token-xyz');
  });

  it('discovers port and token from the macsys files (ipnport symlink, sameuserproof-PORT)', async () => {
    server = await startTailscaleLocalApiServer({ token: 'tok-from-file' });
    const port = String(server.port);
    symlinkSync(port, join(dir, 'ipnport'));
    writeFileSync(join(dir, `sameuserproof-${port}`), 'tok-from-file\n');
    const transport = resolveLocalApiTransport({ platform: 'darwin', macsysDir: dir });
    expect(transport).toEqual({ kind: 'tcp', port: Number(port), token: 'tok-from-file' });
    expect((await createLocalApiClient({ transport }).status()).BackendState).toBe('Running');
  });
});

describe('transport selection', () => {
  it('uses the platform defaults', () => {
    expect(resolveLocalApiTransport({ platform: 'linux' })).toEqual({ kind: 'unix', socketPath: LINUX_SOCKET_PATH });
    expect(resolveLocalApiTransport({ platform: 'win32' })).toEqual({ kind: 'pipe', pipePath: WINDOWS_PIPE_PATH });
    expect(resolveLocalApiTransport({ platform: 'darwin', macsysDir: join(dir, 'absent') })).toEqual({ kind: 'unix', socketPath: MACOS_OSS_SOCKET_PATH });
    expect(resolveLocalApiTransport({ platform: 'win32', socketPath: '\\\\.\\pipe\\custom' })).toEqual({ kind: 'pipe', pipePath: '\\\\.\\pipe\\custom' });
  });

  it('ignores a macsys dir whose token file is empty', () => {
    symlinkSync('41112', join(dir, 'ipnport'));
    writeFileSync(join(dir, 'sameuserproof-41112'), '  \n');
    expect(resolveLocalApiTransport({ platform: 'darwin', macsysDir: dir }).kind).toBe('unix');
  });
});
