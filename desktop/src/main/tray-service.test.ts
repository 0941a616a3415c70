import type { App, BrowserWindow, Menu, NativeImage, Tray } from 'electron';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { FakeEmitter } from './testing/fake-emitter';
import { createTrayService, type FocusSource, type TrayMenuItem, type TrayPort } from './tray-service';

/** Stands for NativeImage: which icon is shown. */
type Icon = 'idle' | 'unread';

class FakeTray extends FakeEmitter implements TrayPort<TrayMenuItem[], Icon> {
  image: Icon | null = null;
  tooltip = '';
  title = '';
  menu: TrayMenuItem[] | null = null;
  destroyed = false;
  setImage(image: Icon): void {
    this.image = image;
  }
  setToolTip(toolTip: string): void {
    this.tooltip = toolTip;
  }
  setTitle(title: string): void {
    this.title = title;
  }
  setContextMenu(menu: TrayMenuItem[] | null): void {
    this.menu = menu;
  }
  destroy(): void {
    this.destroyed = true;
  }
  item(id: string): TrayMenuItem {
    const found = this.menu?.find((entry) => entry.id === id);
    if (!found) throw new Error(`no menu item ${id}`);
    return found;
  }
}

class FakeApp implements Pick<App, 'setBadgeCount'> {
  badge = -1;
  setBadgeCount(count?: number): boolean {
    this.badge = count ?? 0;
    return true;
  }
}

class FakeWindow extends FakeEmitter implements FocusSource {}

function setup(platform: NodeJS.Platform = 'darwin') {
  const tray = new FakeTray();
  const app = new FakeApp();
  const window = new FakeWindow();
  const calls: string[] = [];
  let dnd = false;
  const service = createTrayService<TrayMenuItem[], Icon>({
    tray,
    buildMenu: (items) => items,
    icons: { idle: 'idle', unread: 'unread' },
    app,
    window,
    platform,
    productName: 'AutoClaw',
    doNotDisturb: { get: () => dnd, set: (on) => void (dnd = on) },
    actions: { open: () => calls.push('open'), signOut: () => calls.push('sign-out'), quit: () => calls.push('quit') },
  });
  return { tray, app, window, calls, service, dnd: () => dnd };
}

describe('tray service', () => {
  it('takes the real Electron objects', () => {
    expectTypeOf<Tray>().toExtend<TrayPort<Menu, NativeImage>>();
    expectTypeOf<BrowserWindow>().toExtend<FocusSource>();
  });

  it('shows the unread count in icon, tooltip, title and badge', () => {
    const { tray, app, service } = setup();
    expect(tray.image).toBe('idle');
    expect(tray.tooltip).toBe('AutoClaw');
    service.increment();
    service.increment();
    expect(service.unreadCount).toBe(2);
    expect(tray.image).toBe('unread');
    expect(tray.tooltip).toBe('AutoClaw — 2 unread');
    expect(tray.title).toBe('2');
    expect(app.badge).toBe(2);
    expect(tray.item('open').label).toBe('Open AutoClaw (2 unread)');
    service.setUnreadCount(150);
    expect(tray.title).toBe('99+');
  });

  it('resets the count when the window gets focus', () => {
    const { tray, app, window, service } = setup();
    service.setUnreadCount(3);
    window.emit('focus');
    expect(service.unreadCount).toBe(0);
    expect(tray.image).toBe('idle');
    expect(tray.tooltip).toBe('AutoClaw');
    expect(tray.title).toBe('');
    expect(app.badge).toBe(0);
  });

  it('sets no title outside macOS', () => {
    const { tray, service } = setup('linux');
    service.setUnreadCount(4);
    expect(tray.title).toBe('');
    expect(tray.tooltip).toBe('AutoClaw — 4 unread');
  });

  it('wires the menu and the icon click', () => {
    const { tray, calls, dnd } = setup();
    tray.emit('click');
    tray.item('open').click?.();
    tray.item('sign-out').click?.();
    tray.item('quit').click?.();
    expect(calls).toEqual(['open', 'open', 'sign-out', 'quit']);
    expect(tray.item('do-not-disturb').checked).toBe(false);
    tray.item('do-not-disturb').click?.();
    expect(dnd()).toBe(true);
    expect(tray.item('do-not-disturb').checked).toBe(true);
  });

  it('refuses a bad count and clears everything on dispose', () => {
    const { tray, app, service } = setup();
    expect(() => service.setUnreadCount(-1)).toThrow(RangeError);
    expect(() => service.setUnreadCount(1.5)).toThrow(RangeError);
    service.setUnreadCount(2);
    service.dispose();
    expect(tray.destroyed).toBe(true);
    expect(app.badge).toBe(0);
  });
});
