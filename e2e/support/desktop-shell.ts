/**
 * The desktop app, minus Electron (which cannot run here): the renderer is
 * served by the app's own protocol handler (desktop/src/main/app-protocol.ts,
 * with the CSP main gives it) over a loopback HTTP server instead of
 * `app://autoclaw`, `window.autoclaw` is the real preload bridge
 * (bridge-api.ts, bundled with esbuild) and its IPC goes to the real main
 * handlers (ipc-api.ts) with the real device key store and, with a feed,
 * the real self-update (self-update.ts driving electron-updater's
 * AppImageUpdater). Only Electron's own objects are test doubles: ipcMain,
 * safeStorage, the app electron-updater sees, and the notification/tray
 * services and the system browser (which record what they were asked).
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import type { AnswerNotice, GatewayNotice, TailscaleStatusInfo } from '../../desktop/src/preload/api';
import type { RendererEvent } from '../../desktop/src/preload/ipc-channels';
import { createAppProtocolHandler, DEFAULT_CONNECT_SOURCES, rendererContentSecurityPolicy, type AppProtocolHandler } from '../../desktop/src/main/app-protocol';
import { parseDesktopConfig } from '../../desktop/src/main/desktop-config';
import { createCheckoutOpener } from '../../desktop/src/main/checkout-opener';
import { createDeviceKeyStore, type DeviceKeyStore } from '../../desktop/src/main/device-key-store';
import { registerIpcApi } from '../../desktop/src/main/ipc-api';
import { FakeIpcMain } from '../../desktop/src/main/testing/fake-ipc-main';
import { FakeSafeStorage } from '../../desktop/src/main/testing/fake-safe-storage';
import { realUpdater, type FakeApp } from '../../desktop/src/main/testing/update-feed';
import { createSelfUpdate } from '../../desktop/src/main/self-update';
import { REPO_ROOT } from './gateway-process';

export interface DesktopShell {
  /** Where the renderer is served (stands in for app://autoclaw). */
  readonly origin: string;
  /** What main was asked to show and count. */
  readonly notices: AnswerNotice[];
  /** Gateway notices (budget lines, channel states) the page handed to main. */
  readonly gatewayNotices: GatewayNotice[];
  readonly unreadCounts: number[];
  /** Payment pages main opened in the system browser (shell.openExternal). */
  readonly checkouts: string[];
  readonly deviceKeys: DeviceKeyStore;
  /** Configures main with the manager (as --manager-url does) and starts serving. */
  useManager(managerUrl: string): void;
  /** Gives a page the bridge (before it navigates). */
  attach(page: Page): Promise<void>;
  /** Main pushes an event to the page (a deep link, the tray's Sign out). */
  push(page: Page, event: RendererEvent): Promise<void>;
  close(): Promise<void>;
}

export interface DesktopShellOptions {
  tailscale: TailscaleStatusInfo;
  /** The app updates itself from this generic feed (as --update-feed), as the double `app` of electron-updater. */
  selfUpdate?: { feedUrl: string; app: FakeApp };
}

/** The preload's bridge as a script for the page, wired to the exposed IPC function. */
async function bridgeScript(): Promise<string> {
  const bundle = await build({
    entryPoints: [join(REPO_ROOT, 'desktop/src/preload/bridge-api.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: '__bridgeModule',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'silent',
  });
  const code = bundle.outputFiles[0]?.text ?? '';
  return `${code}
(() => {
  const listeners = [];
  window.__autoclawPush = (payload) => { for (const listener of listeners) listener(payload); };
  // A hidden or unfocused window is simulated by the test (headless Chromium always has focus).
  window.__away = false;
  Document.prototype.hasFocus = function () { return !window.__away; };
  Object.defineProperty(window, 'autoclaw', {
    value: Object.freeze(__bridgeModule.createBridgeApi({
      invoke: (channel, ...args) => window.__autoclawInvoke(channel, args),
      onPush: (listener) => { listeners.push(listener); },
      platform: 'linux',
    })),
  });
})();`;
}

/** Main pushes an event to a page (webContents.send). */
async function pushTo(page: Page, event: RendererEvent): Promise<void> {
  await page.evaluate((payload) => (window as unknown as { __autoclawPush(p: unknown): void }).__autoclawPush(payload), event);
}

export async function startDesktopShell(options: DesktopShellOptions): Promise<DesktopShell> {
  const dir = mkdtempSync(join(tmpdir(), 'autoclaw-desktop-'));
  const ipc = new FakeIpcMain();
  const notices: AnswerNotice[] = [];
  const gatewayNotices: GatewayNotice[] = [];
  const unreadCounts: number[] = [];
  const checkouts: string[] = [];
  const queued: RendererEvent[] = [];
  let handler: AppProtocolHandler | null = null;
  let managerUrl: string | null = null;

  const server: Server = createServer((req, res) => {
    void (async () => {
      if (!handler) {
        res.writeHead(503).end();
        return;
      }
      const answer = await handler(new Request(`app://autoclaw${req.url ?? '/'}`, { method: req.method ?? 'GET' }));
      const headers: Record<string, string> = {};
      answer.headers.forEach((value, name) => {
        headers[name] = value;
      });
      res.writeHead(answer.status, headers);
      res.end(Buffer.from(await answer.arrayBuffer()));
    })().catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const origin = `http://127.0.0.1:${address.port}`;

  // A Linux without a keyring, and the user declined plaintext storage: the key lives in memory for this run.
  const deviceKeys = createDeviceKeyStore({
    dir,
    safeStorage: new FakeSafeStorage('basic_text'),
    platform: 'linux',
    confirmPlaintextStorage: async () => false,
    now: () => Date.now(),
    log: () => undefined,
  });
  const pages: Page[] = [];
  const selfUpdate = options.selfUpdate
    ? createSelfUpdate({
        updater: realUpdater(options.selfUpdate.app),
        app: options.selfUpdate.app,
        currentVersion: options.selfUpdate.app.version,
        feedUrl: options.selfUpdate.feedUrl,
        // As main does: every state is pushed live to the page.
        onState: (state) => {
          for (const page of pages) pushTo(page, { type: 'update-state', state }).catch(() => undefined);
        },
      })
    : null;
  const dispose = registerIpcApi({
    ipcMain: ipc,
    log: () => undefined,
    isTrustedUrl: (url) => url.startsWith(`${origin}/`),
    services: {
      get appInfo() {
        return { version: '0.1.0', managerUrl };
      },
      deviceKeys,
      notifications: {
        notifyAnswer: (notice) => {
          notices.push(notice);
          return 'shown';
        },
        notifyNotice: (notice) => {
          gatewayNotices.push(notice);
          return 'shown';
        },
      },
      unread: { setUnreadCount: (count) => void unreadCounts.push(count) },
      events: { take: () => queued.splice(0) },
      tailscale: { status: async () => options.tailscale },
      checkout: createCheckoutOpener({ openExternal: async (url) => void checkouts.push(url) }),
      selfUpdate,
    },
  });
  const script = await bridgeScript();

  return {
    origin,
    notices,
    gatewayNotices,
    unreadCounts,
    checkouts,
    deviceKeys,
    useManager(url) {
      const config = parseDesktopConfig([`--manager-url=${url}`], {});
      managerUrl = config.managerUrl;
      handler = createAppProtocolHandler({
        root: join(REPO_ROOT, 'desktop/dist/renderer'),
        contentSecurityPolicy: rendererContentSecurityPolicy([...DEFAULT_CONNECT_SOURCES, ...config.connectSources]),
      });
    },
    async attach(page) {
      pages.push(page);
      await page.exposeFunction('__autoclawInvoke', (channel: string, args: unknown[]) =>
        ipc.invoke(channel, { url: page.url(), parent: null }, ...args),
      );
      await page.addInitScript(script);
    },
    push: pushTo,
    async close() {
      selfUpdate?.stop();
      dispose();
      await new Promise<void>((done) => server.close(() => done()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
