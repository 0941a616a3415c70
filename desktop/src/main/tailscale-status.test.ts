/**
 * `getTailscaleStatus()` from main's side: the reader against a local server
 * speaking tailscaled's LocalAPI on a Unix socket, and through the real IPC
 * handler (sender check, argument and answer validation).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RUNNING_STATUS, startTailscaleLocalApiServer, type TailscaleLocalApiServer } from '../../../server/src/testing';
import { IPC_CHANNELS } from '../preload/ipc-channels';
import { registerIpcApi, type IpcApiServices } from './ipc-api';
import { createTailscaleStatusReader } from './tailscale-status';
import { FakeIpcMain } from './testing/fake-ipc-main';

const APP = { url: 'app://autoclaw/index.html', parent: null };
let dir: string;
let socketPath: string;
let server: TailscaleLocalApiServer;
let clock: number;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autoclaw-ts-status-'));
  socketPath = join(dir, 'tailscaled.sock');
  server = await startTailscaleLocalApiServer({ socketPath });
  clock = 1_000;
});

afterEach(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const reader = (path = socketPath) => createTailscaleStatusReader({ socketPath: path, platform: 'linux', now: () => clock });

describe('tailscale status reader', () => {
  it('says this device is on the tailnet, with its name', async () => {
    expect(await reader().status()).toEqual({
      state: 'running',
      tailnet: 'alice@example.com',
      deviceName: 'box.tail1234.ts.net',
      guidance: 'This device is on the tailnet alice@example.com.',
    });
    expect(server.requests.at(-1)).toMatchObject({ path: '/localapi/v0/status', host: 'local-tailscaled.sock' });
  });

  it('guides a device that is not on the tailnet: login link, stopped, waiting for approval', async () => {
    const r = reader();
    server.setStatus({ ...RUNNING_STATUS, BackendState: 'NeedsLogin', AuthURL: 'https://login.tailscale.com/a/0123abcd', Self: undefined });
    expect(await r.status()).toMatchObject({ state: 'needs-login', authUrl: 'https://login.tailscale.com/a/0123abcd', guidance: expect.stringContaining('sign in') });
    clock += 5_000;
    server.setStatus({ ...RUNNING_STATUS, BackendState: 'Stopped' });
    expect(await r.status()).toMatchObject({ state: 'stopped', guidance: expect.stringContaining('tailscale up') });
    clock += 5_000;
    server.setStatus({ ...RUNNING_STATUS, BackendState: 'NeedsMachineAuth' });
    expect((await r.status()).state).toBe('needs-approval');
  });

  it('tells not installed from installed but not running', async () => {
    expect(await reader(join(dir, 'missing.sock')).status()).toMatchObject({ state: 'not-installed', guidance: expect.stringContaining('https://tailscale.com/download') });
    const stale = join(dir, 'stale.sock');
    writeFileSync(stale, '');
    expect((await reader(stale).status()).state).toBe('not-running');
  });

  it('shares one request between concurrent calls and reuses an answer for a moment', async () => {
    const r = reader();
    const [a, b] = await Promise.all([r.status(), r.status()]);
    expect(a).toEqual(b);
    expect(await r.status()).toEqual(a);
    expect(server.requests).toHaveLength(1);
    clock += 1_500;
    await r.status();
    expect(server.requests).toHaveLength(2);
  });
});

describe('getTailscaleStatus over IPC', () => {
  function ipcWith(tailscale: IpcApiServices['tailscale']): { ipc: FakeIpcMain; dispose: () => void } {
    const ipc = new FakeIpcMain();
    const never = () => {
      throw new Error('not used');
    };
    const dispose = registerIpcApi({
      ipcMain: ipc,
      log: () => undefined,
      services: {
        appInfo: { version: '0.1.0', managerUrl: null },
        deviceKeys: { identity: never, signChallenge: never } as unknown as IpcApiServices['deviceKeys'],
        notifications: { notifyAnswer: never, notifyNotice: never },
        unread: { setUnreadCount: never },
        events: { take: () => [] },
        tailscale,
        selfUpdate: null,
      },
    });
    return { ipc, dispose };
  }

  it('answers the app page with the status, refuses arguments and other frames', async () => {
    const { ipc, dispose } = ipcWith(reader());
    expect(await ipc.invoke(IPC_CHANNELS.getTailscaleStatus, APP)).toMatchObject({ ok: true, value: { state: 'running', deviceName: 'box.tail1234.ts.net' } });
    expect(await ipc.invoke(IPC_CHANNELS.getTailscaleStatus, APP, 'extra')).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    expect(await ipc.invoke(IPC_CHANNELS.getTailscaleStatus, { url: 'https://evil.example/', parent: null })).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    dispose();
  });

  it('lets only the documented fields and an https login link through', async () => {
    const odd = { state: 'needs-login', guidance: 'Sign in.', authUrl: 'javascript:alert(1)' } as const;
    const { ipc, dispose } = ipcWith({ status: async () => odd as never });
    expect(await ipc.invoke(IPC_CHANNELS.getTailscaleStatus, APP)).toMatchObject({ ok: false, code: 'INTERNAL' });
    dispose();
    const extra = ipcWith({ status: async () => ({ state: 'running', guidance: 'ok', token: 'x' }) as never });
    expect(await extra.ipc.invoke(IPC_CHANNELS.getTailscaleStatus, APP)).toMatchObject({ ok: false, code: 'INTERNAL' });
    extra.dispose();
  });
});
