/**
 * The Electron entry: the only main-process file that imports 'electron'. It
 * creates the Electron objects and hands them to the plain modules beside it
 * (which tests drive with doubles); there is no logic here beyond wiring.
 */
import {
  BrowserWindow,
  Menu,
  Notification,
  Tray,
  app,
  dialog,
  ipcMain,
  nativeImage,
  protocol,
  safeStorage,
  screen,
  shell,
} from 'electron';
import { join, resolve } from 'node:path';
import { EVENT_CHANNEL } from '../preload/ipc-channels';
import {
  APP_ENTRY_URL,
  APP_SCHEME_PRIVILEGES,
  DEFAULT_CONNECT_SOURCES,
  createAppProtocolHandler,
  registerAppProtocol,
  rendererContentSecurityPolicy,
} from './app-protocol';
import { DEEP_LINK_SCHEME, findDeepLinkInArgv, parseDeepLink } from './deep-link';
import { parseDesktopConfig, type DesktopConfig } from './desktop-config';
import { createDeviceKeyStore, type LogFn } from './device-key-store';
import { registerIpcApi } from './ipc-api';
import { createNotificationService } from './notification-service';
import { PRODUCT } from './product';
import { createRendererEvents, type RendererEvents } from './renderer-events';
import { whenLoaded } from './self-update';
import { startElectronSelfUpdate } from './self-update-electron';
import { loadSettingsStore } from './settings-store';
import { createCheckoutOpener } from './checkout-opener';
import { claimSingleInstance } from './single-instance';
import { trayIconPng } from './tray-icon';
import { createTailscaleStatusReader } from './tailscale-status';
import { createTrayService } from './tray-service';
import { createWindowService, hardenWebContents, type WindowService } from './window-service';

const log: LogFn = (level, message) => {
  const line = `[autoclaw] ${message}`;
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
};

function openExternal(url: string): void {
  shell.openExternal(url).catch(() => log('warn', 'could not open a link in the browser'));
}

/** Linux without a keyring: the user decides whether the device key may sit on disk unencrypted. */
async function confirmPlaintextStorage(): Promise<boolean> {
  const { response } = await dialog.showMessageBox({
    type: 'warning',
    title: PRODUCT.name,
    message: 'No system keychain was found',
    detail:
      `${PRODUCT.name} keeps this device's key in the system keychain (GNOME Keyring or KWallet), but none is ` +
      'available. Stored anyway, the key is protected only by your file permissions. Kept for this session ' +
      'only, you will pair this device again next time.',
    buttons: ['Keep for this session only', 'Store it anyway'],
    defaultId: 0,
    cancelId: 0,
  });
  return response === 1;
}

interface MainState {
  window: WindowService<BrowserWindow> | null;
}

async function start(config: DesktopConfig, state: MainState, events: RendererEvents): Promise<void> {
  const userData = app.getPath('userData');
  const appRoot = app.getAppPath();
  const settings = await loadSettingsStore(userData, log);
  const persist = (patch: Parameters<typeof settings.update>[0]): void => {
    settings.update(patch).catch(() => log('warn', 'settings: could not be saved'));
  };

  registerAppProtocol(
    protocol,
    createAppProtocolHandler({
      root: join(appRoot, 'dist', 'renderer'),
      contentSecurityPolicy: rendererContentSecurityPolicy([...DEFAULT_CONNECT_SOURCES, ...config.connectSources]),
    }),
  );
  // Every web contents, not only our window's, gets the same navigation and permission guards.
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, openExternal));

  const windowService = createWindowService({
    createWindow: (options) => new BrowserWindow(options),
    preload: join(appRoot, 'dist', 'preload', 'preload.cjs'),
    entryUrl: APP_ENTRY_URL,
    productName: PRODUCT.name,
    savedBounds: settings.get().windowBounds,
    workAreas: () => screen.getAllDisplays().map((display) => display.workArea),
    saveBounds: (bounds) => persist({ windowBounds: bounds }),
    openExternal,
    startHidden: config.startHidden,
    log,
  });
  state.window = windowService;
  const window = windowService.window;
  // A new page (reload, crash) must say again that it listens before main pushes to it.
  window.webContents.on('did-start-navigation', (details) => {
    if (details.isMainFrame && !details.isSameDocument) events.detach();
  });
  window.webContents.on('render-process-gone', () => events.detach());

  const icon = (badge: boolean) => nativeImage.createFromBuffer(trayIconPng(badge), { scaleFactor: 2 });
  const icons = { idle: icon(false), unread: icon(true) };
  const tray = createTrayService({
    tray: new Tray(icons.idle),
    buildMenu: (items) => Menu.buildFromTemplate(items),
    icons,
    app,
    window,
    platform: process.platform,
    productName: PRODUCT.name,
    doNotDisturb: { get: () => settings.get().doNotDisturb, set: (on) => persist({ doNotDisturb: on }) },
    actions: {
      open: () => windowService.showAndFocus(),
      signOut: () => {
        windowService.showAndFocus();
        events.dispatch({ type: 'sign-out' });
      },
      quit: () => app.quit(),
    },
  });

  const notifications = createNotificationService({
    createNotification: (options) => new Notification(options),
    isSupported: () => Notification.isSupported(),
    window,
    doNotDisturb: () => settings.get().doNotDisturb,
    unread: tray,
    openSession: (sessionId) => {
      windowService.showAndFocus();
      events.dispatch({ type: 'deep-link', link: { kind: 'open', sessionId } });
    },
    showWindow: () => windowService.showAndFocus(),
    productName: PRODUCT.name,
  });

  const selfUpdate = config.updateFeedUrl
    ? startElectronSelfUpdate({
        app,
        dialog,
        window: () => window,
        feedUrl: config.updateFeedUrl,
        productName: PRODUCT.name,
        log,
        onState: (update) => events.dispatch({ type: 'update-state', state: update }, { live: true }),
      }).catch((error: unknown) => {
        log('warn', `self-update could not start: ${error instanceof Error ? error.message : 'unknown error'}`);
        return null;
      })
    : null;

  const removeIpc = registerIpcApi({
    ipcMain,
    log,
    services: {
      appInfo: { version: app.getVersion(), managerUrl: config.managerUrl },
      deviceKeys: createDeviceKeyStore({
        dir: userData,
        safeStorage,
        platform: process.platform,
        confirmPlaintextStorage,
        now: Date.now,
        log,
      }),
      notifications,
      unread: tray,
      events,
      tailscale: createTailscaleStatusReader(),
      checkout: createCheckoutOpener({ openExternal: (url) => shell.openExternal(url) }),
      selfUpdate: selfUpdate ? whenLoaded(selfUpdate.then((running) => running?.self ?? null), app.getVersion()) : null,
    },
  });

  app.on('activate', () => windowService.showAndFocus());
  app.on('before-quit', () => windowService.markQuitting());
  app.on('will-quit', () => {
    removeIpc();
    void selfUpdate?.then((running) => running?.stop());
    notifications.dispose();
    tray.dispose();
  });
}

function main(): void {
  let config: DesktopConfig;
  try {
    config = parseDesktopConfig(process.argv, process.env);
  } catch (error) {
    dialog.showErrorBox(PRODUCT.name, error instanceof Error ? error.message : 'invalid configuration');
    app.exit(2);
    return;
  }
  protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
  app.enableSandbox();
  if (process.platform === 'win32') app.setAppUserModelId(PRODUCT.appId);

  const state: MainState = { window: null };
  const events = createRendererEvents({
    send: (event) => state.window?.window.webContents.send(EVENT_CHANNEL, event),
  });
  const handleLink = (raw: string): void => {
    const result = parseDeepLink(raw);
    // Never log the link itself: it may carry a pairing code.
    if (result.ok) events.dispatch({ type: 'deep-link', link: result.link });
    else log('warn', `refused a deep link: ${result.reason}`);
  };

  const primary = claimSingleInstance({
    app,
    argv: process.argv,
    focus: () => state.window?.showAndFocus(),
    handleLink,
  });
  if (!primary) return;

  // Unpackaged (`electron .`), the OS must be told to start Electron with our entry script.
  const registered = process.defaultApp
    ? app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME, process.execPath, [resolve(process.argv[1] ?? '.')])
    : app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME);
  if (!registered) log('warn', `could not register the ${DEEP_LINK_SCHEME}:// scheme`);

  const launchLink = findDeepLinkInArgv(process.argv);
  if (launchLink !== null) handleLink(launchLink);

  app
    .whenReady()
    .then(() => start(config, state, events))
    .catch((error: unknown) => {
      log('error', `start-up failed: ${error instanceof Error ? error.message : 'unknown error'}`);
      app.exit(1);
    });
}

main();
