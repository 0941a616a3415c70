/**
 * The thin Electron side of self-update.ts: electron-updater's platform
 * updater (loaded when first used) and Electron's `app`; a round at start and
 * every 6 hours, progress on the window's taskbar/dock progress bar, and a
 * "Restart to update" button once the new version is downloaded.
 */
import type { App, BrowserWindow, Dialog } from 'electron';
import { createSelfUpdate } from './self-update';
import type { SelfUpdate, SelfUpdateState } from './self-update';

const EVERY_MS = 6 * 60 * 60_000;

export interface ElectronSelfUpdateDeps {
  app: App;
  dialog: Pick<Dialog, 'showMessageBox'>;
  window: () => BrowserWindow | null;
  feedUrl: string;
  productName: string;
  log: (level: 'info' | 'warn', message: string) => void;
  /** Every state change, for the page (check, progress, ready, error). */
  onState?: (state: SelfUpdateState) => void;
}

export async function startElectronSelfUpdate(deps: ElectronSelfUpdateDeps): Promise<{ self: SelfUpdate; stop(): void }> {
  const { autoUpdater } = await import('electron-updater');
  let asked: string | null = null;
  const onState = (state: SelfUpdateState): void => {
    deps.onState?.(state);
    const window = deps.window();
    if (state.kind === 'downloading') window?.setProgressBar(state.percent / 100);
    else window?.setProgressBar(-1);
    if (state.kind === 'error') deps.log('warn', `self-update: ${state.message}`);
    if (state.kind === 'ready' && asked !== state.version) {
      asked = state.version;
      const options = {
        type: 'info' as const,
        message: `${deps.productName} ${state.version} is ready`,
        detail: `You are running ${state.currentVersion}. Restart to update now, or it is installed when you next quit.`,
        buttons: ['Restart to update', 'Later'],
        defaultId: 0,
        cancelId: 1,
      };
      void (window ? deps.dialog.showMessageBox(window, options) : deps.dialog.showMessageBox(options)).then(({ response }) => {
        if (response === 0) self.restart();
      });
    }
  };
  const self = createSelfUpdate({ updater: autoUpdater, app: deps.app, currentVersion: deps.app.getVersion(), feedUrl: deps.feedUrl, onState });
  const round = () => void self.cycle().catch(() => undefined);
  round();
  const timer = setInterval(round, EVERY_MS);
  timer.unref();
  return {
    self,
    stop() {
      clearInterval(timer);
      self.stop();
    },
  };
}
