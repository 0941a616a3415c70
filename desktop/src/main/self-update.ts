/**
 * The desktop app updating itself from a generic feed (latest.yml and the
 * artifact with its sha512, as electron-builder publishes them): check,
 * download with progress, "restart to update". Plain: it drives an
 * electron-updater `AppUpdater` (or anything with its slice) and the app's
 * relaunch/quit, both injected; self-update-electron.ts wires the real ones.
 * The update installs when the app quits (electron-updater's quit handler),
 * so a restart is relaunch + quit on every platform.
 */
import type { DesktopUpdateState } from '../preload/api';

export interface UpdateProgress {
  percent: number;
  transferred: number;
  total: number;
  bytesPerSecond: number;
}

/** The slice of electron-updater's AppUpdater this module uses. */
export interface UpdaterPort {
  autoDownload: boolean;
  autoInstallOnAppQuit: boolean;
  disableDifferentialDownload: boolean;
  setFeedURL(options: { provider: 'generic'; url: string }): void;
  checkForUpdates(): Promise<{ isUpdateAvailable: boolean; updateInfo: { version: string } } | null>;
  downloadUpdate(): Promise<string[]>;
  on(event: 'download-progress', listener: (info: UpdateProgress) => void): unknown;
  removeListener(event: 'download-progress', listener: (info: UpdateProgress) => void): unknown;
}

/** The slice of Electron's `app` a restart needs. */
export interface RelaunchPort {
  relaunch(): void;
  quit(): void;
}

/** The renderer sees the same states (plus `off` when no feed is configured). */
export type SelfUpdateState = Exclude<DesktopUpdateState, { kind: 'off' }>;

export interface SelfUpdateOptions {
  updater: UpdaterPort;
  app: RelaunchPort;
  currentVersion: string;
  /** The generic feed's base URL (a setting: --update-feed or AUTOCLAW_UPDATE_FEED_URL). */
  feedUrl: string;
  /** Every state change (the window shows it; progress at most every 1 %). */
  onState?: (state: SelfUpdateState) => void;
}

export interface SelfUpdate {
  state(): SelfUpdateState;
  check(): Promise<SelfUpdateState>;
  download(): Promise<SelfUpdateState>;
  /** Check, and download what the feed offers (the background round). */
  cycle(): Promise<SelfUpdateState>;
  /** Only once an update is downloaded: relaunch and quit (the update installs on quit). */
  restart(): boolean;
  stop(): void;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0]?.slice(0, 300) ?? 'update failed';

export function createSelfUpdate(o: SelfUpdateOptions): SelfUpdate {
  const { updater, currentVersion } = o;
  let onState = o.onState;
  updater.autoDownload = false;
  updater.autoInstallOnAppQuit = true;
  // The feed publishes whole artifacts; no block maps.
  updater.disableDifferentialDownload = true;
  updater.setFeedURL({ provider: 'generic', url: o.feedUrl });
  let current: SelfUpdateState = { kind: 'idle', currentVersion };
  let busy: Promise<SelfUpdateState> | null = null;
  const set = (next: SelfUpdateState): SelfUpdateState => {
    current = next;
    onState?.(next);
    return next;
  };
  const once = (work: () => Promise<SelfUpdateState>): Promise<SelfUpdateState> =>
    (busy ??= work().finally(() => {
      busy = null;
    }));

  const self: SelfUpdate = {
    state: () => current,
    async cycle() {
      const checked = await self.check();
      return checked.kind === 'available' ? self.download() : checked;
    },
    check: () =>
      once(async () => {
        if (current.kind === 'ready' || current.kind === 'downloading') return current;
        set({ kind: 'checking', currentVersion });
        try {
          const result = await updater.checkForUpdates();
          if (!result || !result.isUpdateAvailable) return set({ kind: 'up-to-date', currentVersion });
          return set({ kind: 'available', currentVersion, version: result.updateInfo.version });
        } catch (err) {
          return set({ kind: 'error', currentVersion, message: message(err) });
        }
      }),
    download: () =>
      once(async () => {
        if (current.kind !== 'available' && !(current.kind === 'error' && current.version)) return current;
        const version = current.version as string;
        let shown = -1;
        const progress = (p: UpdateProgress) => {
          const percent = Math.min(100, Math.floor(p.percent));
          if (percent === shown) return;
          shown = percent;
          set({ kind: 'downloading', currentVersion, version, percent, transferred: p.transferred, total: p.total });
        };
        set({ kind: 'downloading', currentVersion, version, percent: 0, transferred: 0, total: 0 });
        updater.on('download-progress', progress);
        try {
          await updater.downloadUpdate();
          return set({ kind: 'ready', currentVersion, version });
        } catch (err) {
          // The checked sha512 did not match, the feed went away, …: nothing is installed; the user may try again.
          return set({ kind: 'error', currentVersion, version, message: message(err) });
        } finally {
          updater.removeListener('download-progress', progress);
        }
      }),
    restart() {
      if (current.kind !== 'ready') return false;
      o.app.relaunch();
      o.app.quit();
      return true;
    },
    stop() {
      onState = undefined;
    },
  };
  return self;
}

/**
 * The page's view of a self-update whose module is still loading
 * (electron-updater is imported on first use): `idle` until it is there,
 * then the self-update itself; `error` when it could not start.
 */
export function whenLoaded(loading: Promise<SelfUpdate | null>, currentVersion: string) {
  let loaded: SelfUpdate | null = null;
  let failed = false;
  const ready = loading.then(
    (self) => {
      loaded = self;
      failed = self === null;
      return self;
    },
    () => {
      failed = true;
      return null;
    },
  );
  const unavailable = (): SelfUpdateState => ({ kind: 'error', currentVersion, message: 'the updater could not start' });
  const current = (): SelfUpdateState => loaded?.state() ?? (failed ? unavailable() : { kind: 'idle', currentVersion });
  return {
    state: current,
    check: async (): Promise<SelfUpdateState> => (await ready)?.check() ?? unavailable(),
    download: async (): Promise<SelfUpdateState> => (await ready)?.download() ?? unavailable(),
    restart: (): boolean => loaded?.restart() ?? false,
  };
}
