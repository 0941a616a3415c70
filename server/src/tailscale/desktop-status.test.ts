import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RUNNING_STATUS, startTailscaleLocalApiServer, type TailscaleLocalApiServer } from '../testing/tailscale-localapi-server';
import { readDesktopTailscaleStatus } from './desktop-status';

let dir: string;
let server: TailscaleLocalApiServer | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ts-desk-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('readDesktopTailscaleStatus', () => {
  it('says not-installed when there is no socket, with install guidance', async () => {
    const s = await readDesktopTailscaleStatus({ platform: 'linux', socketPath: join(dir, 'none.sock') });
    expect(s.state).toBe('not-installed');
    expect(s.guidance).toContain('tailscale.com/download');
  });

  it('says not-running when the socket does not answer', async () => {
    const path = join(dir, 'stale.sock');
    writeFileSync(path, '');
    expect((await readDesktopTailscaleStatus({ platform: 'linux', socketPath: path })).state).toBe('not-running');
  });

  it('reports running with the tailnet and device names', async () => {
    const socketPath = join(dir, 'ts.sock');
    server = await startTailscaleLocalApiServer({ socketPath });
    expect(await readDesktopTailscaleStatus({ platform: 'linux', socketPath })).toEqual({
      state: 'running',
      tailnet: 'alice@example.com',
      deviceName: 'box.tail1234.ts.net',
      guidance: 'This device is on the tailnet alice@example.com.',
    });
  });

  it('maps NeedsLogin (with the login URL), Stopped and NeedsMachineAuth', async () => {
    const socketPath = join(dir, 'ts.sock');
    server = await startTailscaleLocalApiServer({ socketPath });
    server.setStatus({ BackendState: 'NeedsLogin', AuthURL: 'https://login.tailscale.com/a/abc', Self: null, CurrentTailnet: null });
    const login = await readDesktopTailscaleStatus({ platform: 'linux', socketPath });
    expect(login).toMatchObject({ state: 'needs-login', authUrl: 'https://login.tailscale.com/a/abc' });
    server.setStatus({ ...RUNNING_STATUS, BackendState: 'Stopped' });
    expect((await readDesktopTailscaleStatus({ platform: 'linux', socketPath })).state).toBe('stopped');
    server.setStatus({ ...RUNNING_STATUS, BackendState: 'NeedsMachineAuth' });
    expect((await readDesktopTailscaleStatus({ platform: 'linux', socketPath })).state).toBe('needs-approval');
  });

  it('reads through the macOS app port and token', async () => {
    server = await startTailscaleLocalApiServer({ token: 't0k' });
    const s = await readDesktopTailscaleStatus({ localapi: (await import('./localapi-client')).createLocalApiClient({ transport: { kind: 'tcp', port: server.port ?? 0, token: 't0k' } }) });
    expect(s.state).toBe('running');
  });
});
