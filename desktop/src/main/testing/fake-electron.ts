/**
 * Test support: the slice of the `electron` module that main.ts uses, as
 * plain objects that record what happens, so the bundled main can be booted
 * in Node (main-wiring.test.ts). Each double mirrors the Electron API it
 * stands for; the module-level ports are checked against Electron's own
 * types in each plain module's test.
 */
import type { BrowserWindowConstructorOptions, CustomScheme, HandlerDetails, WindowOpenHandlerResponse } from 'electron';
import { FakeEmitter, FakeEvent } from './fake-emitter';
import { FakeIpcMain } from './fake-ipc-main';
import { FakeSafeStorage } from './fake-safe-storage';

type Handler = (...args: never[]) => unknown;

export class FakeWebContents extends FakeEmitter {
  readonly sent: Array<[string, unknown]> = [];
  openHandler: ((details: HandlerDetails) => WindowOpenHandlerResponse) | null = null;
  readonly session = {
    request: null as Handler | null,
    check: null as Handler | null,
    setPermissionRequestHandler: (handler: Handler | null) => void (this.session.request = handler),
    setPermissionCheckHandler: (handler: Handler | null) => void (this.session.check = handler),
  };
  setWindowOpenHandler(handler: (details: HandlerDetails) => WindowOpenHandlerResponse): void {
    this.openHandler = handler;
  }
  send(channel: string, payload: unknown): void {
    this.sent.push([channel, payload]);
  }
}

export class FakeBrowserWindow extends FakeEmitter {
  static readonly made: FakeBrowserWindow[] = [];
  readonly webContents = new FakeWebContents();
  visible = false;
  focused = false;
  minimized = false;
  loaded: string | null = null;
  closed = false;
  constructor(readonly options: BrowserWindowConstructorOptions) {
    super();
    FakeBrowserWindow.made.push(this);
  }
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
    this.focused = false;
  }
  focus(): void {
    this.focused = true;
    this.emit('focus');
  }
  restore(): void {
    this.minimized = false;
  }
  maximize(): void {}
  isMinimized(): boolean {
    return this.minimized;
  }
  isMaximized(): boolean {
    return false;
  }
  isVisible(): boolean {
    return this.visible;
  }
  isFocused(): boolean {
    return this.focused;
  }
  getNormalBounds() {
    return { x: 10, y: 20, width: 1000, height: 700 };
  }
  async loadURL(url: string): Promise<void> {
    this.loaded = url;
  }
  /** The user closes the window; true when it really closed. */
  close(): boolean {
    const event = new FakeEvent();
    this.emit('close', event);
    this.closed = !event.defaultPrevented;
    if (!this.closed) this.hide();
    return this.closed;
  }
}

export class FakeTray extends FakeEmitter {
  static readonly made: FakeTray[] = [];
  tooltip = '';
  menu: Array<{ id?: string; click?: () => void }> = [];
  destroyed = false;
  constructor(readonly image: unknown) {
    super();
    FakeTray.made.push(this);
  }
  setImage(): void {}
  setTitle(): void {}
  setToolTip(tooltip: string): void {
    this.tooltip = tooltip;
  }
  setContextMenu(menu: Array<{ id?: string; click?: () => void }>): void {
    this.menu = menu;
  }
  destroy(): void {
    this.destroyed = true;
  }
  click(id: string): void {
    const item = this.menu.find((entry) => entry.id === id);
    if (!item?.click) throw new Error(`no menu item ${id}`);
    item.click();
  }
}

export class FakeNotification extends FakeEmitter {
  static readonly made: FakeNotification[] = [];
  static isSupported(): boolean {
    return true;
  }
  shown = false;
  constructor(readonly options: { title?: string; body?: string }) {
    super();
    FakeNotification.made.push(this);
  }
  show(): void {
    this.shown = true;
  }
  close(): void {}
}

class FakeApp extends FakeEmitter {
  sandboxed = false;
  exitCode: number | null = null;
  badge = 0;
  schemeClient: string | null = null;
  private ready!: () => void;
  private readonly readyPromise = new Promise<void>((resolve) => (this.ready = resolve));
  constructor(
    private readonly paths: { appPath: string; userData: string },
    private readonly lock: boolean,
  ) {
    super();
  }
  becomeReady(): void {
    this.ready();
  }
  whenReady(): Promise<void> {
    return this.readyPromise;
  }
  enableSandbox(): void {
    this.sandboxed = true;
  }
  setAppUserModelId(): void {}
  requestSingleInstanceLock(): boolean {
    return this.lock;
  }
  setAsDefaultProtocolClient(scheme: string): boolean {
    this.schemeClient = scheme;
    return true;
  }
  quit(): void {
    this.emit('before-quit');
    this.emit('will-quit');
  }
  exit(code: number): void {
    this.exitCode = code;
  }
  getPath(): string {
    return this.paths.userData;
  }
  getAppPath(): string {
    return this.paths.appPath;
  }
  getVersion(): string {
    return '0.1.0';
  }
  setBadgeCount(count: number): boolean {
    this.badge = count;
    return true;
  }
}

export function createFakeElectron(paths: { appPath: string; userData: string }, lock = true) {
  FakeBrowserWindow.made.length = 0;
  FakeTray.made.length = 0;
  FakeNotification.made.length = 0;
  const schemes: CustomScheme[] = [];
  const handlers = new Map<string, (request: Request) => Promise<Response>>();
  const external: string[] = [];
  return {
    app: new FakeApp(paths, lock),
    BrowserWindow: FakeBrowserWindow,
    Tray: FakeTray,
    Notification: FakeNotification,
    Menu: { buildFromTemplate: (items: unknown[]) => items },
    nativeImage: { createFromBuffer: (png: Buffer, options: object) => ({ png, options }) },
    ipcMain: new FakeIpcMain(),
    safeStorage: new FakeSafeStorage('gnome_libsecret'),
    screen: { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] },
    shell: { openExternal: async (url: string) => void external.push(url) },
    dialog: { showMessageBox: async () => ({ response: 0 }), showErrorBox: () => undefined },
    protocol: {
      schemes,
      handlers,
      registerSchemesAsPrivileged: (list: CustomScheme[]) => void schemes.push(...list),
      handle: (scheme: string, handler: (request: Request) => Promise<Response>) => void handlers.set(scheme, handler),
    },
    external,
  };
}

export type FakeElectron = ReturnType<typeof createFakeElectron>;
