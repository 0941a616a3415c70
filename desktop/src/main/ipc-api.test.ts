import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IpcMain } from 'electron';
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { authPayload } from '@autoclaw/shared';
import type { AnswerNotice, DeviceIdentityInfo, GatewayNotice, SignChallengeResult } from '../preload/api';
import { IPC_CHANNELS, type RendererEvent } from '../preload/ipc-channels';
import { createDeviceKeyStore } from './device-key-store';
import { registerIpcApi, type InvokeEventPort, type IpcMainPort } from './ipc-api';
import { FakeIpcMain } from './testing/fake-ipc-main';
import { FakeSafeStorage } from './testing/fake-safe-storage';

const NOW = 1_750_000_000_000;
const APP = { url: 'app://autoclaw/index.html', parent: null };
let dir: string;
let ipc: FakeIpcMain;
let dispose: () => void;
let notices: AnswerNotice[];
let gatewayNotices: GatewayNotice[];
let unread: number[];
let logs: string[];
let queued: RendererEvent[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'autoclaw-ipc-'));
  ipc = new FakeIpcMain();
  notices = [];
  gatewayNotices = [];
  unread = [];
  logs = [];
  queued = [{ type: 'sign-out' }];
  dispose = registerIpcApi({
    ipcMain: ipc,
    log: (level, message) => logs.push(`${level} ${message}`),
    services: {
      appInfo: { version: '0.1.0', managerUrl: null },
      deviceKeys: createDeviceKeyStore({
        dir,
        safeStorage: new FakeSafeStorage('gnome_libsecret'),
        platform: 'linux',
        confirmPlaintextStorage: async () => false,
        now: () => NOW,
        log: () => undefined,
      }),
      notifications: {
        notifyAnswer: (notice) => {
          notices.push(notice);
          return 'shown';
        },
        notifyNotice: (notice) => {
          gatewayNotices.push(notice);
          return 'unread';
        },
      },
      unread: { setUnreadCount: (count) => void unread.push(count) },
      events: {
        take: () => {
          const out = queued;
          queued = [];
          return out;
        },
      },
      tailscale: { status: async () => ({ state: 'not-installed', guidance: 'Install Tailscale.' }) },
      selfUpdate: null,
    },
  });
});

afterEach(() => {
  dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('ipc api', () => {
  it('takes the real Electron ipcMain', () => {
    expectTypeOf<IpcMain>().toExtend<IpcMainPort>();
  });

  it('registers one handler per capability and removes them all', () => {
    expect([...ipc.handlers.keys()].sort()).toEqual(Object.values(IPC_CHANNELS).sort());
    dispose();
    expect(ipc.handlers.size).toBe(0);
  });

  it('gives the identity and signatures that verify against it', async () => {
    const identity = await ipc.invoke(IPC_CHANNELS.getDeviceIdentity, APP);
    expect(identity.ok).toBe(true);
    const { deviceId, publicKey } = (identity as { value: DeviceIdentityInfo }).value;
    const nonce = randomBytes(32).toString('base64url');
    const signed = await ipc.invoke(IPC_CHANNELS.signChallenge, APP, { nonce, timestamp: NOW });
    expect(signed.ok).toBe(true);
    const { signature } = (signed as { value: SignChallengeResult }).value;
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
    expect(verify(null, Buffer.from(authPayload(nonce, deviceId, NOW)), key, Buffer.from(signature, 'base64url'))).toBe(true);
  });

  it('passes valid notices, counts and event takes through', async () => {
    const notice = { sessionId: 's1', title: 'Hi', preview: 'Hello' };
    expect(await ipc.invoke(IPC_CHANNELS.notifyAnswer, APP, notice)).toEqual({ ok: true, value: 'shown' });
    expect(await ipc.invoke(IPC_CHANNELS.setUnreadCount, APP, 3)).toEqual({ ok: true, value: null });
    expect(await ipc.invoke(IPC_CHANNELS.takeEvents, APP)).toEqual({ ok: true, value: [{ type: 'sign-out' }] });
    expect(await ipc.invoke(IPC_CHANNELS.getAppInfo, APP)).toEqual({ ok: true, value: { version: '0.1.0', managerUrl: null } });
    expect(notices).toEqual([notice]);
    expect(unread).toEqual([3]);
    const down = { title: 'Telegram is down', body: 'reconnecting', level: 'error' };
    expect(await ipc.invoke(IPC_CHANNELS.notifyNotice, APP, down)).toEqual({ ok: true, value: 'unread' });
    expect(gatewayNotices).toEqual([down]);
  });

  it('answers the self-update channels with `off` when no feed is configured, and takes no arguments', async () => {
    expect(await ipc.invoke(IPC_CHANNELS.updateState, APP)).toEqual({ ok: true, value: { kind: 'off' } });
    expect(await ipc.invoke(IPC_CHANNELS.updateCheck, APP)).toEqual({ ok: true, value: { kind: 'off' } });
    expect(await ipc.invoke(IPC_CHANNELS.updateDownload, APP)).toEqual({ ok: true, value: { kind: 'off' } });
    expect(await ipc.invoke(IPC_CHANNELS.updateRestart, APP)).toEqual({ ok: true, value: false });
    expect(await ipc.invoke(IPC_CHANNELS.updateCheck, APP, 'http://evil.example/feed')).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
  });

  it('refuses callers other than the app page', async () => {
    const frames: Array<InvokeEventPort['senderFrame']> = [
      null,
      { url: 'https://evil.example/', parent: null },
      { url: 'file:///tmp/x.html', parent: null },
      { url: 'app://autoclaw/index.html', parent: { url: 'app://autoclaw/' } },
    ];
    for (const frame of frames) {
      for (const channel of Object.values(IPC_CHANNELS)) {
        const result = await ipc.invoke(channel, frame, 3);
        expect(result, `${channel} ${JSON.stringify(frame)}`).toMatchObject({ ok: false, code: 'FORBIDDEN' });
      }
    }
    expect(unread).toEqual([]);
    expect(queued).toHaveLength(1);
  });

  // The malformed-input corpus: each call gets BAD_REQUEST and nothing happens.
  const corpus: Array<[string, unknown[]]> = [
    [IPC_CHANNELS.getAppInfo, [{}]],
    [IPC_CHANNELS.getDeviceIdentity, ['extra']],
    [IPC_CHANNELS.signChallenge, []],
    [IPC_CHANNELS.signChallenge, ['nonce-as-a-string']],
    [IPC_CHANNELS.signChallenge, [{ nonce: 'short', timestamp: NOW }]],
    [IPC_CHANNELS.signChallenge, [{ nonce: 'x'.repeat(200), timestamp: NOW }]],
    [IPC_CHANNELS.signChallenge, [{ nonce: 'a b c d e f g h i j k l', timestamp: NOW }]],
    [IPC_CHANNELS.signChallenge, [{ nonce: randomBytes(32).toString('base64url'), timestamp: '1750000000000' }]],
    [IPC_CHANNELS.signChallenge, [{ nonce: randomBytes(32).toString('base64url'), timestamp: 1.5 }]],
    [IPC_CHANNELS.signChallenge, [{ nonce: randomBytes(32).toString('base64url'), timestamp: NOW, payload: 'sign me' }]],
    [IPC_CHANNELS.signChallenge, [{ nonce: randomBytes(32).toString('base64url'), timestamp: NOW }, 'extra']],
    [IPC_CHANNELS.signChallenge, [null]],
    [IPC_CHANNELS.notifyAnswer, [{ sessionId: '../x', title: 't', preview: 'p' }]],
    [IPC_CHANNELS.notifyAnswer, [{ sessionId: 's1', title: 't'.repeat(501), preview: 'p' }]],
    [IPC_CHANNELS.notifyAnswer, [{ sessionId: 's1', title: 't', preview: 'p'.repeat(20_001) }]],
    [IPC_CHANNELS.notifyAnswer, [{ sessionId: 's1', title: 't' }]],
    [IPC_CHANNELS.notifyAnswer, [{ sessionId: 's1', title: 't', preview: 'p', icon: 'file:///etc/passwd' }]],
    [IPC_CHANNELS.notifyAnswer, ['s1', 't', 'p']],
    [IPC_CHANNELS.notifyNotice, [{ title: '', body: 'b', level: 'info' }]],
    [IPC_CHANNELS.notifyNotice, [{ title: 't', body: 'b', level: 'loud' }]],
    [IPC_CHANNELS.notifyNotice, [{ title: 't', body: 'b'.repeat(5_001), level: 'info' }]],
    [IPC_CHANNELS.notifyNotice, [{ title: 't', body: 'b', level: 'info', icon: 'file:///etc/passwd' }]],
    [IPC_CHANNELS.setUnreadCount, []],
    [IPC_CHANNELS.setUnreadCount, [-1]],
    [IPC_CHANNELS.setUnreadCount, [2.5]],
    [IPC_CHANNELS.setUnreadCount, [Number.NaN]],
    [IPC_CHANNELS.setUnreadCount, [Number.POSITIVE_INFINITY]],
    [IPC_CHANNELS.setUnreadCount, ['3']],
    [IPC_CHANNELS.setUnreadCount, [{ count: 3 }]],
    [IPC_CHANNELS.setUnreadCount, [10_000_000]],
    [IPC_CHANNELS.takeEvents, [true]],
  ];

  it.each(corpus)('refuses malformed %s %j', async (channel, args) => {
    const result = await ipc.invoke(channel, APP, ...args);
    expect(result).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    expect(notices).toEqual([]);
    expect(unread).toEqual([]);
    expect(queued).toHaveLength(1);
  });

  it('keeps the AppError code of a service and hides unexpected errors', async () => {
    const stale = await ipc.invoke(IPC_CHANNELS.signChallenge, APP, {
      nonce: randomBytes(32).toString('base64url'),
      timestamp: NOW - 3_600_000,
    });
    expect(stale).toMatchObject({ ok: false, code: 'BAD_REQUEST' });

    const other = new FakeIpcMain();
    const stop = registerIpcApi({
      ipcMain: other,
      log: (level, message) => logs.push(`${level} ${message}`),
      services: {
        appInfo: { version: '0.1.0', managerUrl: null },
        deviceKeys: { identity: () => Promise.reject(new Error('disk on fire at /home/u')), signChallenge: () => Promise.reject(new Error('x')) },
        notifications: { notifyAnswer: () => 'shown', notifyNotice: () => 'shown' },
        unread: { setUnreadCount: () => undefined },
        events: { take: () => [] },
        tailscale: { status: () => Promise.reject(new Error('x')) },
        selfUpdate: null,
      },
    });
    expect(await other.invoke(IPC_CHANNELS.getTailscaleStatus, APP)).toMatchObject({ ok: false, code: 'INTERNAL' });
    expect(await other.invoke(IPC_CHANNELS.getDeviceIdentity, APP)).toEqual({
      ok: false,
      code: 'INTERNAL',
      message: 'internal error in the desktop app',
    });
    expect(logs.some((line) => line.includes('disk on fire'))).toBe(true);
    stop();
  });
});
