/**
 * Boots the bundled main (desktop/dist/main/main.cjs as build-desktop.mjs
 * makes it) in Node with a recording double of the `electron` module, and
 * checks the wiring main.ts does: privileged scheme before ready, the locked
 * window on app://, tray, notifications, IPC, deep links, quit.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInThisContext } from 'node:vm';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { EVENT_CHANNEL, IPC_CHANNELS } from '../preload/ipc-channels';
import { DEVICE_KEY_FILE } from './device-key-store';
import { createFakeElectron, FakeNotification, type FakeElectron } from './testing/fake-electron';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const APP_FRAME = { url: 'app://autoclaw/index.html', parent: null };
let out: string;
let appPath: string;
let userData: string;

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'autoclaw-main-wiring-'));
  execFileSync(process.execPath, [join(root, 'build', 'build-desktop.mjs'), '--outdir', join(out, 'bundle')], { stdio: 'pipe' });
  appPath = join(out, 'app');
  mkdirSync(join(appPath, 'dist', 'renderer'), { recursive: true });
  writeFileSync(join(appPath, 'dist', 'renderer', 'index.html'), '<!doctype html><title>AutoClaw</title>');
}, 60_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

beforeEach(() => {
  userData = mkdtempSync(join(out, 'user-data-'));
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  return () => vi.restoreAllMocks();
});

/** Runs main.cjs once, as Electron would, with `electron` replaced by the double. */
function boot(argv: string[], lock = true): FakeElectron {
  const electron = createFakeElectron({ appPath, userData }, lock);
  const nodeRequire = createRequire(import.meta.url);
  const code = readFileSync(join(out, 'bundle', 'main', 'main.cjs'), 'utf8');
  const run = runInThisContext(`(function (require, module, exports, process) {${code}\n})`, { filename: 'main.cjs' }) as (
    ...args: unknown[]
  ) => void;
  const module = { exports: {} };
  const fakeProcess = { argv, env: {}, platform: 'linux', defaultApp: false, execPath: argv[0], pid: process.pid };
  run((name: string) => (name === 'electron' ? electron : nodeRequire(name)), module, module.exports, fakeProcess);
  return electron;
}

/** Retries an assertion for up to a second (main's start-up and settings writes are async file work). */
async function eventually(check: () => void): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      check();
      return;
    } catch (error) {
      if (attempt >= 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

async function ready(electron: FakeElectron): Promise<void> {
  electron.app.becomeReady();
  await eventually(() => expect(electron.ipcMain.handlers.size).toBeGreaterThan(0));
}

describe('main wiring', () => {
  it('registers the privileged scheme and the sandbox before ready, then serves app://', async () => {
    const electron = boot(['/opt/AutoClaw/autoclaw']);
    expect(electron.protocol.schemes).toEqual([
      expect.objectContaining({ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) }),
    ]);
    expect(electron.app.sandboxed).toBe(true);
    expect(electron.app.schemeClient).toBe('autoclaw');
    expect(electron.protocol.handlers.size).toBe(0);
    await ready(electron);
    const handler = electron.protocol.handlers.get('app');
    const response = await handler?.(new Request('app://autoclaw/'));
    expect(response?.status).toBe(200);
    expect(response?.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('opens one locked-down window on the app page and a tray', async () => {
    const electron = boot(['/opt/AutoClaw/autoclaw']);
    await ready(electron);
    expect(electron.BrowserWindow.made).toHaveLength(1);
    const window = electron.BrowserWindow.made[0]!;
    expect(window.options.webPreferences).toMatchObject({
      preload: join(appPath, 'dist', 'preload', 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    });
    expect(window.loaded).toBe('app://autoclaw/index.html');
    expect(electron.Tray.made).toHaveLength(1);
    expect(electron.Tray.made[0]?.tooltip).toBe('AutoClaw');
    expect([...electron.ipcMain.handlers.keys()].sort()).toEqual(Object.values(IPC_CHANNELS).sort());
  });

  it('delivers the launch link once the page listens, and later links directly', async () => {
    const electron = boot(['/opt/AutoClaw/autoclaw', 'autoclaw://open?session=s1']);
    await ready(electron);
    const window = electron.BrowserWindow.made[0]!;
    expect(await electron.ipcMain.invoke(IPC_CHANNELS.takeEvents, APP_FRAME)).toEqual({
      ok: true,
      value: [{ type: 'deep-link', link: { kind: 'open', sessionId: 's1' } }],
    });
    electron.app.emit('second-instance', { preventDefault() {} }, ['/x'], '/', { deepLink: 'autoclaw://pair?code=ABCD-EFGH' });
    expect(window.visible).toBe(true);
    expect(window.webContents.sent).toEqual([
      [EVENT_CHANNEL, { type: 'deep-link', link: { kind: 'pair', code: 'ABCD-EFGH', ticket: null, instanceId: null } }],
    ]);
    // A malicious link is refused, and the raw link (it may hold a code) is not logged.
    electron.app.emit('open-url', { preventDefault() {} }, 'autoclaw://pair?code=WXYZ-2345&gateway=https://evil.example');
    expect(window.webContents.sent).toHaveLength(1);
    const warnings = vi.mocked(console.warn).mock.calls.flat().join('\n');
    expect(warnings).toContain('refused a deep link');
    expect(warnings).not.toContain('WXYZ-2345');
  });

  it("opens a payment page in the system browser through Electron's shell, and refuses other URLs", async () => {
    const electron = boot(['/opt/AutoClaw/autoclaw']);
    await ready(electron);
    const pay = 'https://checkout.stripe.example/c/pay/cs_test_w';
    expect(await electron.ipcMain.invoke(IPC_CHANNELS.openCheckout, APP_FRAME, pay)).toEqual({ ok: true, value: null });
    expect(await electron.ipcMain.invoke(IPC_CHANNELS.openCheckout, APP_FRAME, 'http://evil.example/pay')).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    expect(await electron.ipcMain.invoke(IPC_CHANNELS.openCheckout, APP_FRAME, 42)).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    expect(electron.external).toEqual([pay]);
  });

  it('notifies when hidden, counts unread, and focusing clears it', async () => {
    const electron = boot(['/opt/AutoClaw/autoclaw']);
    await ready(electron);
    const window = electron.BrowserWindow.made[0]!;
    const tray = electron.Tray.made[0]!;
    await electron.ipcMain.invoke(IPC_CHANNELS.takeEvents, APP_FRAME);
    const notice = { sessionId: 's9', title: 'Trip', preview: 'Booked.' };
    expect(await electron.ipcMain.invoke(IPC_CHANNELS.notifyAnswer, APP_FRAME, notice)).toEqual({ ok: true, value: 'shown' });
    expect(FakeNotification.made[0]?.options).toEqual({ title: 'Trip', body: 'Booked.' });
    expect(tray.tooltip).toBe('AutoClaw — 1 unread');
    expect(electron.app.badge).toBe(1);
    FakeNotification.made[0]?.emit('click');
    expect(window.visible && window.focused).toBe(true);
    expect(tray.tooltip).toBe('AutoClaw');
    expect(window.webContents.sent).toEqual([[EVENT_CHANNEL, { type: 'deep-link', link: { kind: 'open', sessionId: 's9' } }]]);
    tray.click('sign-out');
    expect(window.webContents.sent.at(-1)).toEqual([EVENT_CHANNEL, { type: 'sign-out' }]);
  });

  it('keeps the device key in userData, encrypted, and signs through IPC', async () => {
    const electron = boot(['/opt/AutoClaw/autoclaw']);
    await ready(electron);
    const identity = await electron.ipcMain.invoke(IPC_CHANNELS.getDeviceIdentity, APP_FRAME);
    expect(identity).toMatchObject({ ok: true, value: { storage: 'keychain' } });
    expect(existsSync(join(userData, DEVICE_KEY_FILE))).toBe(true);
  });

  it('hides on close, really closes and cleans up when quitting', async () => {
    const electron = boot(['/opt/AutoClaw/autoclaw']);
    await ready(electron);
    const window = electron.BrowserWindow.made[0]!;
    window.show();
    expect(window.close()).toBe(false);
    expect(window.visible).toBe(false);
    electron.app.emit('before-quit');
    expect(window.close()).toBe(true);
    electron.app.emit('will-quit');
    expect(electron.Tray.made[0]?.destroyed).toBe(true);
    expect(electron.ipcMain.handlers.size).toBe(0);
    await eventually(() =>
      expect(JSON.parse(readFileSync(join(userData, 'settings.json'), 'utf8'))).toMatchObject({
        windowBounds: { x: 10, y: 20, width: 1000, height: 700, maximized: false },
      }),
    );
  });

  it('a second instance quits without opening anything', () => {
    const electron = boot(['/opt/AutoClaw/autoclaw', 'autoclaw://open?session=s1'], false);
    electron.app.becomeReady();
    expect(electron.BrowserWindow.made).toHaveLength(0);
    expect(electron.app.listenerCount('second-instance')).toBe(0);
  });
});
