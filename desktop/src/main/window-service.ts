/**
 * The one chat window. Locked down as Electron's security checklist asks:
 * context isolation, sandbox, no Node in the page, web security on, no
 * webviews; navigation is held to the app's own origin, `window.open` is
 * refused (https links go to the user's browser instead), and the page gets
 * no permissions but writing to the clipboard. Closing the window hides it
 * (the tray keeps the app running) unless the app is quitting. Electron's
 * BrowserWindow constructor is injected.
 */
import type { BrowserWindow, BrowserWindowConstructorOptions, Rectangle, WebContents } from 'electron';
import { APP_HOST, APP_SCHEME } from './app-protocol';
import { restoreBounds, MIN_SIZE, type SavedBounds } from './window-bounds';

interface CancellableEvent {
  preventDefault(): void;
}

/** The parts of Electron's Session we use. */
export interface SessionPort {
  setPermissionRequestHandler(
    handler: ((webContents: unknown, permission: string, callback: (granted: boolean) => void) => void) | null,
  ): void;
  setPermissionCheckHandler(handler: ((webContents: unknown, permission: string) => boolean) | null): void;
}

/** The parts of Electron's WebContents we use. */
export interface WebContentsPort extends Pick<WebContents, 'setWindowOpenHandler'> {
  on(event: 'will-navigate' | 'will-redirect', listener: (event: CancellableEvent, url: string) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: CancellableEvent) => void): unknown;
  readonly session: SessionPort;
}

/** The parts of Electron's BrowserWindow we use. */
export interface WindowPort
  extends Pick<
    BrowserWindow,
    'show' | 'hide' | 'focus' | 'restore' | 'maximize' | 'isMinimized' | 'isMaximized' | 'getNormalBounds' | 'loadURL'
  > {
  readonly webContents: WebContentsPort;
  on(event: 'close', listener: (event: CancellableEvent) => void): unknown;
  once(event: 'ready-to-show', listener: () => void): unknown;
}

/** Permissions the page may have: copying a message to the clipboard. */
const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-sanitized-write']);

export function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST;
  } catch {
    return false;
  }
}

/** Links the page may open in the user's browser: https only, no credentials in the URL. */
export function isExternalLink(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' && parsed.username === '' && parsed.password === '';
  } catch {
    return false;
  }
}

/** Guards one WebContents: the main window's and any other that appears. */
export function hardenWebContents(contents: WebContentsPort, openExternal: (url: string) => void): void {
  const stayInApp = (event: CancellableEvent, url: string): void => {
    if (!isAppUrl(url)) event.preventDefault();
  };
  contents.on('will-navigate', stayInApp);
  contents.on('will-redirect', stayInApp);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isExternalLink(url)) openExternal(url);
    return { action: 'deny' };
  });
  contents.session.setPermissionRequestHandler((_contents, permission, callback) =>
    callback(ALLOWED_PERMISSIONS.has(permission)),
  );
  contents.session.setPermissionCheckHandler((_contents, permission) => ALLOWED_PERMISSIONS.has(permission));
}

export interface WindowServiceOptions<W extends WindowPort> {
  createWindow: (options: BrowserWindowConstructorOptions) => W;
  /** Absolute path of the bundled preload (CommonJS: sandboxed preloads cannot be ES modules). */
  preload: string;
  entryUrl: string;
  productName: string;
  savedBounds: SavedBounds | null;
  /** Work areas of the connected displays (screen.getAllDisplays()). */
  workAreas: () => Rectangle[];
  saveBounds: (bounds: SavedBounds) => void;
  openExternal: (url: string) => void;
  /** The window starts hidden when the app was launched at login, say. */
  startHidden: boolean;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export interface WindowService<W extends WindowPort> {
  readonly window: W;
  /** Shows, un-minimizes and focuses the window. */
  showAndFocus(): void;
  /** From now on closing the window closes it instead of hiding it. */
  markQuitting(): void;
}

export function windowOptions(options: {
  preload: string;
  productName: string;
  bounds: { width: number; height: number; x?: number; y?: number };
}): BrowserWindowConstructorOptions {
  return {
    ...options.bounds,
    minWidth: MIN_SIZE.width,
    minHeight: MIN_SIZE.height,
    title: options.productName,
    show: false,
    autoHideMenuBar: true,
    webPreferences: {
      preload: options.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: true,
    },
  };
}

export function createWindowService<W extends WindowPort>(options: WindowServiceOptions<W>): WindowService<W> {
  const restored = restoreBounds(options.savedBounds, options.workAreas());
  const { maximized, ...bounds } = restored;
  const window = options.createWindow(
    windowOptions({ preload: options.preload, productName: options.productName, bounds }),
  );
  let quitting = false;

  hardenWebContents(window.webContents, options.openExternal);

  window.on('close', (event) => {
    const normal = window.getNormalBounds();
    options.saveBounds({ ...normal, maximized: window.isMaximized() });
    if (quitting) return;
    event.preventDefault();
    window.hide();
  });

  window.once('ready-to-show', () => {
    if (maximized) window.maximize();
    if (!options.startHidden) window.show();
  });

  window.loadURL(options.entryUrl).catch((error: unknown) => {
    options.log('error', `window: the app page did not load (${error instanceof Error ? error.message : 'unknown error'})`);
  });

  return {
    window,
    showAndFocus() {
      if (window.isMinimized()) window.restore();
      window.show();
      window.focus();
    },
    markQuitting() {
      quitting = true;
    },
  };
}
