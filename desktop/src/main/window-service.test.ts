import type {
  BrowserWindow,
  BrowserWindowConstructorOptions,
  HandlerDetails,
  Rectangle,
  Session,
  WebContents,
  WindowOpenHandlerResponse,
} from 'electron';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { FakeEmitter, FakeEvent } from './testing/fake-emitter';
import {
  createWindowService,
  hardenWebContents,
  isAppUrl,
  type SessionPort,
  type WebContentsPort,
  type WindowPort,
} from './window-service';
import type { SavedBounds } from './window-bounds';

type RequestHandler = Parameters<SessionPort['setPermissionRequestHandler']>[0];
type CheckHandler = Parameters<SessionPort['setPermissionCheckHandler']>[0];

class FakeSession implements SessionPort {
  request: RequestHandler = null;
  check: CheckHandler = null;
  setPermissionRequestHandler(handler: RequestHandler): void {
    this.request = handler;
  }
  setPermissionCheckHandler(handler: CheckHandler): void {
    this.check = handler;
  }
}

class FakeWebContents extends FakeEmitter implements WebContentsPort {
  readonly session = new FakeSession();
  openHandler: ((details: HandlerDetails) => WindowOpenHandlerResponse) | null = null;
  setWindowOpenHandler(handler: (details: HandlerDetails) => WindowOpenHandlerResponse): void {
    this.openHandler = handler;
  }
  /** Fires a cancellable navigation event; true when it went through. */
  navigate(event: 'will-navigate' | 'will-redirect', url: string): boolean {
    const e = new FakeEvent();
    this.emit(event, e, url);
    return !e.defaultPrevented;
  }
  open(url: string): WindowOpenHandlerResponse | undefined {
    return this.openHandler?.({
      url,
      frameName: '',
      features: '',
      disposition: 'new-window',
      referrer: { url: 'app://autoclaw/index.html', policy: 'strict-origin-when-cross-origin' },
    });
  }
}

class FakeWindow extends FakeEmitter implements WindowPort {
  readonly webContents = new FakeWebContents();
  visible = false;
  focused = false;
  minimized = false;
  maximized = false;
  loaded: string | null = null;
  bounds: Rectangle = { x: 30, y: 40, width: 1000, height: 700 };
  constructor(readonly options: BrowserWindowConstructorOptions) {
    super();
  }
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
  }
  focus(): void {
    this.focused = true;
  }
  restore(): void {
    this.minimized = false;
  }
  maximize(): void {
    this.maximized = true;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  isMaximized(): boolean {
    return this.maximized;
  }
  getNormalBounds(): Rectangle {
    return this.bounds;
  }
  async loadURL(url: string): Promise<void> {
    this.loaded = url;
  }
  /** Fires 'close'; true when the window really closes. */
  close(): boolean {
    const e = new FakeEvent();
    this.emit('close', e);
    return !e.defaultPrevented;
  }
}

function setup(savedBounds: SavedBounds | null = null, startHidden = false) {
  const external: string[] = [];
  const saved: SavedBounds[] = [];
  const service = createWindowService({
    createWindow: (options) => new FakeWindow(options),
    preload: '/app/dist/preload/preload.cjs',
    entryUrl: 'app://autoclaw/index.html',
    productName: 'AutoClaw',
    savedBounds,
    workAreas: () => [{ x: 0, y: 0, width: 1920, height: 1080 }],
    saveBounds: (bounds) => saved.push(bounds),
    openExternal: (url) => external.push(url),
    startHidden,
    log: () => undefined,
  });
  return { service, window: service.window, external, saved };
}

describe('window service', () => {
  it('takes the real Electron objects', () => {
    expectTypeOf<BrowserWindow>().toExtend<WindowPort>();
    expectTypeOf<WebContents>().toExtend<WebContentsPort>();
    expectTypeOf<Session>().toExtend<SessionPort>();
  });

  it('creates a locked-down window that loads the app page', () => {
    const { window } = setup();
    expect(window.options.webPreferences).toMatchObject({
      preload: '/app/dist/preload/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(window.options.show).toBe(false);
    expect(window.loaded).toBe('app://autoclaw/index.html');
    window.emit('ready-to-show');
    expect(window.visible).toBe(true);
  });

  it('stays hidden at start when asked to', () => {
    const { window } = setup(null, true);
    window.emit('ready-to-show');
    expect(window.visible).toBe(false);
  });

  it('blocks navigation and redirects to any other origin', () => {
    const contents = setup().window.webContents;
    expect(contents.navigate('will-navigate', 'app://autoclaw/settings')).toBe(true);
    for (const url of [
      'https://evil.example/',
      'http://127.0.0.1:7300/',
      'file:///etc/passwd',
      'app://evil/index.html',
      'app://autoclaw.evil.example/',
      'javascript:alert(1)',
      'autoclaw://open?session=s1',
      'not a url',
    ]) {
      expect(contents.navigate('will-navigate', url), url).toBe(false);
      expect(contents.navigate('will-redirect', url), url).toBe(false);
    }
  });

  it('refuses window.open and sends only https links to the browser', () => {
    const { window, external } = setup();
    for (const url of ['https://docs.example.com/a?b=c', 'http://plain.example/', 'file:///etc/passwd', 'javascript:alert(1)', 'https://user:pw@evil.example/', 'app://autoclaw/x']) {
      expect(window.webContents.open(url)).toEqual({ action: 'deny' });
    }
    expect(external).toEqual(['https://docs.example.com/a?b=c']);
  });

  it('refuses webviews and every permission but clipboard writes', () => {
    const contents = setup().window.webContents;
    const e = new FakeEvent();
    contents.emit('will-attach-webview', e);
    expect(e.defaultPrevented).toBe(true);
    const answers: Array<[string, boolean]> = [];
    for (const permission of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-sanitized-write']) {
      contents.session.request?.(contents, permission, (granted) => answers.push([permission, granted]));
    }
    expect(answers).toEqual([
      ['media', false],
      ['geolocation', false],
      ['notifications', false],
      ['openExternal', false],
      ['clipboard-sanitized-write', true],
    ]);
    expect(contents.session.check?.(contents, 'clipboard-read')).toBe(false);
  });

  it('hides on close until quitting, saving bounds each time', () => {
    const { service, window, saved } = setup();
    window.show();
    expect(window.close()).toBe(false);
    expect(window.visible).toBe(false);
    service.markQuitting();
    window.maximized = true;
    expect(window.close()).toBe(true);
    expect(saved).toEqual([
      { x: 30, y: 40, width: 1000, height: 700, maximized: false },
      { x: 30, y: 40, width: 1000, height: 700, maximized: true },
    ]);
  });

  it('restores saved bounds and the maximized state', () => {
    const { window } = setup({ x: 100, y: 80, width: 900, height: 600, maximized: true });
    expect(window.options).toMatchObject({ x: 100, y: 80, width: 900, height: 600 });
    window.emit('ready-to-show');
    expect(window.maximized).toBe(true);
  });

  it('brings a minimized or hidden window to the front', () => {
    const { service, window } = setup();
    window.minimized = true;
    service.showAndFocus();
    expect(window).toMatchObject({ minimized: false, visible: true, focused: true });
  });

  it('recognizes only its own origin', () => {
    expect(isAppUrl('app://autoclaw/')).toBe(true);
    expect(isAppUrl('app://autoclaw:80/')).toBe(false);
    expect(isAppUrl('APP://autoclaw/')).toBe(true);
    expect(isAppUrl('app://AUTOCLAW/')).toBe(false);
  });

  it('guards any web contents, not only the window', () => {
    const contents = new FakeWebContents();
    hardenWebContents(contents, () => undefined);
    expect(contents.navigate('will-navigate', 'https://evil.example/')).toBe(false);
  });
});
