/**
 * The tray: icon, tooltip (and on macOS the title next to the icon) show the
 * number of unread answers; the dock/launcher badge follows. The count goes
 * back to zero when the window gets focus. Menu: open, do not disturb, sign
 * out, quit. Electron's Tray, Menu.buildFromTemplate and app are injected.
 */
import type { App, Tray } from 'electron';

/** The parts of Electron's Tray we use; M is Menu, I is NativeImage. */
export interface TrayPort<M, I> extends Pick<Tray, 'setToolTip' | 'destroy'> {
  setImage(image: I): void;
  setTitle(title: string): void;
  setContextMenu(menu: M | null): void;
  on(event: 'click', listener: () => void): unknown;
}

/** A subset of Electron's MenuItemConstructorOptions. */
export interface TrayMenuItem {
  id?: string;
  label?: string;
  type?: 'normal' | 'separator' | 'checkbox';
  checked?: boolean;
  enabled?: boolean;
  click?: () => void;
}

/** What tells us the window got focus (the BrowserWindow). */
export interface FocusSource {
  on(event: 'focus', listener: () => void): unknown;
}

export interface TrayServiceOptions<M, I> {
  tray: TrayPort<M, I>;
  buildMenu: (items: TrayMenuItem[]) => M;
  icons: { idle: I; unread: I };
  app: Pick<App, 'setBadgeCount'>;
  window: FocusSource;
  platform: NodeJS.Platform;
  productName: string;
  doNotDisturb: { get(): boolean; set(on: boolean): void };
  actions: { open(): void; signOut(): void; quit(): void };
}

export interface TrayService {
  readonly unreadCount: number;
  setUnreadCount(count: number): void;
  /** One more unread answer. */
  increment(): void;
  dispose(): void;
}

/** The count as shown in small places. */
export function unreadLabel(count: number): string {
  return count > 99 ? '99+' : String(count);
}

export function createTrayService<M, I>(options: TrayServiceOptions<M, I>): TrayService {
  const { tray, productName } = options;
  let count = 0;
  let disposed = false;

  function menu(): M {
    return options.buildMenu([
      { id: 'open', label: count > 0 ? `Open ${productName} (${unreadLabel(count)} unread)` : `Open ${productName}`, click: options.actions.open },
      { type: 'separator' },
      {
        id: 'do-not-disturb',
        label: 'Do not disturb',
        type: 'checkbox',
        checked: options.doNotDisturb.get(),
        click: () => {
          options.doNotDisturb.set(!options.doNotDisturb.get());
          render();
        },
      },
      { type: 'separator' },
      { id: 'sign-out', label: 'Sign out', click: options.actions.signOut },
      { id: 'quit', label: `Quit ${productName}`, click: options.actions.quit },
    ]);
  }

  function render(): void {
    if (disposed) return;
    const unread = count > 0;
    tray.setImage(unread ? options.icons.unread : options.icons.idle);
    tray.setToolTip(unread ? `${productName} — ${unreadLabel(count)} unread` : productName);
    // The text beside a tray icon exists only in the macOS menu bar.
    if (options.platform === 'darwin') tray.setTitle(unread ? unreadLabel(count) : '');
    options.app.setBadgeCount(count);
    tray.setContextMenu(menu());
  }

  function setUnreadCount(next: number): void {
    if (!Number.isInteger(next) || next < 0) throw new RangeError('unread count must be a non-negative integer');
    if (next === count) return;
    count = next;
    render();
  }

  tray.on('click', options.actions.open);
  options.window.on('focus', () => setUnreadCount(0));
  render();

  return {
    get unreadCount() {
      return count;
    },
    setUnreadCount,
    increment: () => setUnreadCount(count + 1),
    dispose() {
      if (disposed) return;
      disposed = true;
      options.app.setBadgeCount(0);
      tray.destroy();
    },
  };
}
