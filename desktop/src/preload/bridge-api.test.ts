/**
 * The bridge end to end in Node: the preload's API over the real main-side
 * handlers (ipc-api), the real device key store and the real event queue,
 * with Electron's ipcMain/ipcRenderer replaced by direct calls.
 */
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { authPayload } from '@autoclaw/shared';
import { createDeviceKeyStore } from '../main/device-key-store';
import { registerIpcApi } from '../main/ipc-api';
import { createRendererEvents, type RendererEvents } from '../main/renderer-events';
import { FakeIpcMain } from '../main/testing/fake-ipc-main';
import { FakeSafeStorage } from '../main/testing/fake-safe-storage';
import { createSelfUpdate } from '../main/self-update';
import { FakeApp, installedApp, NEW_BUILD, realUpdater, startFeed, type Feed } from '../main/testing/update-feed';
import type { AnswerNotice, AutoClawDesktopApi, DeepLink, DesktopUpdateState } from './api';
import { createBridgeApi } from './bridge-api';

const NOW = 1_750_000_000_000;
const APP_FRAME = { url: 'app://autoclaw/index.html', parent: null };
let dir: string;
let ipc: FakeIpcMain;
let events: RendererEvents;
let push: (payload: unknown) => void;
let unread: number[];
let notices: AnswerNotice[];
let dispose: () => void;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'autoclaw-bridge-'));
  ipc = new FakeIpcMain();
  unread = [];
  notices = [];
  push = () => undefined;
  events = createRendererEvents({ send: (event) => push(event) });
  dispose = registerIpcApi({
    ipcMain: ipc,
    log: () => undefined,
    services: {
      appInfo: { version: '1.2.3', managerUrl: 'https://manager.example.com' },
      deviceKeys: createDeviceKeyStore({
        dir,
        safeStorage: new FakeSafeStorage('kwallet6'),
        platform: 'linux',
        confirmPlaintextStorage: async () => false,
        now: () => NOW,
        log: () => undefined,
      }),
      notifications: {
        notifyAnswer: (notice) => {
          notices.push(notice);
          return 'unread';
        },
        notifyNotice: () => 'shown',
      },
      unread: { setUnreadCount: (count) => void unread.push(count) },
      events,
      tailscale: { status: async () => ({ state: 'needs-login', authUrl: 'https://login.tailscale.com/a/1', guidance: 'Sign in to Tailscale.' }) },
      selfUpdate: null,
    },
  });
});

afterEach(() => {
  dispose();
  rmSync(dir, { recursive: true, force: true });
});

function bridge(platform = 'linux'): AutoClawDesktopApi {
  return createBridgeApi({
    invoke: (channel, ...args) => ipc.invoke(channel, APP_FRAME, ...args),
    onPush: (listener) => {
      push = listener;
    },
    platform,
  });
}

/** Lets the bridge's startup call (takeEvents) settle. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('desktop bridge', () => {
  it('exposes exactly the named capabilities', () => {
    expect(Object.keys(bridge()).sort()).toEqual([
      'checkForUpdates',
      'downloadUpdate',
      'getAppInfo',
      'getDeviceIdentity',
      'getTailscaleStatus',
      'getUpdateState',
      'notifyAnswer',
      'notifyNotice',
      'onDeepLink',
      'onSignOutRequest',
      'onUpdateState',
      'openCheckout',
      'platform',
      'restartToUpdate',
      'setUnreadCount',
      'signChallenge',
    ]);
    expect(bridge('darwin').platform).toBe('darwin');
    expect(bridge('freebsd').platform).toBe('other');
  });

  it("reads this machine's Tailscale status through main", async () => {
    expect(await bridge().getTailscaleStatus()).toEqual({ state: 'needs-login', authUrl: 'https://login.tailscale.com/a/1', guidance: 'Sign in to Tailscale.' });
  });

  it('signs challenges in main with a key the page never sees', async () => {
    const api = bridge();
    const identity = await api.getDeviceIdentity();
    expect(Object.keys(identity).sort()).toEqual(['deviceId', 'publicKey', 'storage']);
    const nonce = randomBytes(32).toString('base64url');
    const { deviceId, signature } = await api.signChallenge({ nonce, timestamp: NOW });
    expect(deviceId).toBe(identity.deviceId);
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: identity.publicKey }, format: 'jwk' });
    expect(verify(null, Buffer.from(authPayload(nonce, deviceId, NOW)), key, Buffer.from(signature, 'base64url'))).toBe(true);
  });

  it('rejects with the error code first', async () => {
    const api = bridge();
    await expect(api.signChallenge({ nonce: 'bad', timestamp: NOW })).rejects.toThrow(/^BAD_REQUEST: /);
    await expect(api.setUnreadCount(-4)).rejects.toThrow(/^BAD_REQUEST: /);
    // Extra fields the page adds are dropped by the bridge, not forwarded to main.
    const sneaky = { sessionId: 's1', title: 't', preview: 'p', icon: 'file:///etc/passwd' } as AnswerNotice;
    expect(await api.notifyAnswer(sneaky)).toBe('unread');
    expect(notices).toEqual([{ sessionId: 's1', title: 't', preview: 'p' }]);
  });

  it('passes app info and the unread count', async () => {
    const api = bridge();
    expect(await api.getAppInfo()).toEqual({ version: '1.2.3', managerUrl: 'https://manager.example.com' });
    await expect(api.setUnreadCount(5)).resolves.toBeUndefined();
    expect(unread).toEqual([5]);
  });

  it('delivers the link that launched the app, then live links, to the page', async () => {
    const launch: DeepLink = { kind: 'pair', code: 'ABCD-EFGH', ticket: null, instanceId: null };
    events.dispatch({ type: 'deep-link', link: launch });
    const api = bridge();
    await settle();
    const seen: DeepLink[] = [];
    const stop = api.onDeepLink((link) => seen.push(link));
    expect(seen).toEqual([launch]);
    events.dispatch({ type: 'deep-link', link: { kind: 'open', sessionId: 's7' } });
    expect(seen).toEqual([launch, { kind: 'open', sessionId: 's7' }]);
    stop();
    events.dispatch({ type: 'deep-link', link: { kind: 'open', sessionId: 's8' } });
    expect(seen).toHaveLength(2);
  });

  it('delivers a sign-out request once, even if it came before the listener', async () => {
    const api = bridge();
    await settle();
    events.dispatch({ type: 'sign-out' });
    let count = 0;
    api.onSignOutRequest(() => (count += 1));
    expect(count).toBe(1);
    api.onSignOutRequest(() => (count += 10));
    expect(count).toBe(1);
  });

  it('ignores malformed pushes', async () => {
    const api = bridge();
    await settle();
    const seen: DeepLink[] = [];
    api.onDeepLink((link) => seen.push(link));
    const states: DesktopUpdateState[] = [];
    api.onUpdateState((state) => states.push(state));
    for (const payload of [null, 'x', { type: 'deep-link' }, { type: 'deep-link', link: { kind: 'evil' } }, { type: 'exec' }, { type: 'update-state', state: { kind: 'pwned' } }, { type: 'update-state', state: { kind: 'ready' } }]) {
      push(payload);
    }
    expect(seen).toEqual([]);
    expect(states).toEqual([]);
  });

  it('says the self-update is off when the app has no feed', async () => {
    const api = bridge();
    expect(await api.getUpdateState()).toEqual({ kind: 'off' });
    expect(await api.checkForUpdates()).toEqual({ kind: 'off' });
    expect(await api.restartToUpdate()).toBe(false);
  });
});

describe('the self-update through the bridge (real electron-updater, a local feed)', () => {
  let appDir = '';
  let restoreEnv: () => void = () => undefined;
  let feed: Feed | null = null;
  beforeEach(() => {
    appDir = mkdtempSync(join(tmpdir(), 'autoclaw-bridge-app-'));
    restoreEnv = installedApp(appDir);
  });
  afterEach(async () => {
    await feed?.close();
    restoreEnv();
    rmSync(appDir, { recursive: true, force: true });
  });

  it('checks, pushes download progress live, and "restart to update" relaunches and quits', async () => {
    feed = await startFeed({ version: '2.0.0', artifact: NEW_BUILD });
    const app = new FakeApp('1.2.3', appDir);
    const self = createSelfUpdate({
      updater: realUpdater(app),
      app,
      currentVersion: app.version,
      feedUrl: feed.url,
      onState: (state) => events.dispatch({ type: 'update-state', state }, { live: true }),
    });
    dispose();
    const live = new FakeIpcMain();
    ipc = live;
    dispose = registerIpcApi({
      ipcMain: live,
      log: () => undefined,
      services: {
        appInfo: { version: '1.2.3', managerUrl: null },
        deviceKeys: { identity: () => Promise.reject(new Error('unused')), signChallenge: () => Promise.reject(new Error('unused')) },
        notifications: { notifyAnswer: () => 'shown', notifyNotice: () => 'shown' },
        unread: { setUnreadCount: () => undefined },
        events,
        tailscale: { status: () => Promise.reject(new Error('unused')) },
        selfUpdate: self,
      },
    });
    // Before the page listens, progress is not queued (only the newest state matters; the page reads it).
    await self.check();
    const api = bridge();
    await settle();
    expect(await api.getUpdateState()).toEqual({ kind: 'available', currentVersion: '1.2.3', version: '2.0.0' });
    const states: DesktopUpdateState[] = [];
    api.onUpdateState((state) => states.push(state));
    expect(await api.restartToUpdate()).toBe(false);
    expect(await api.downloadUpdate()).toEqual({ kind: 'ready', currentVersion: '1.2.3', version: '2.0.0' });
    expect(states.at(0)).toMatchObject({ kind: 'downloading', percent: 0 });
    expect(states.at(-2)).toMatchObject({ kind: 'downloading', percent: 100, total: NEW_BUILD.length });
    expect(states.at(-1)).toEqual({ kind: 'ready', currentVersion: '1.2.3', version: '2.0.0' });
    expect(await api.restartToUpdate()).toBe(true);
    expect([app.relaunched, app.quitted]).toEqual([1, 1]);
  }, 30_000);
});
