/**
 * How the page raises a gateway notice outside itself: through the desktop
 * app (main shows a native notification when the window is away), or with
 * the browser's Notification API once the user allowed it. The page always
 * shows new notices itself too (the bell and a toast).
 */
import type { AutoClawDesktopApi, GatewayNotice } from '../../preload/api';
import type { KeyValueStorage } from './outbox';

export type AlertPermission = 'native' | 'granted' | 'denied' | 'default' | 'unsupported';

export interface NoticeAlerts {
  show(notice: GatewayNotice): void;
  permission(): AlertPermission;
  /** Asks the browser (from a click); the desktop app needs no asking. */
  request(): Promise<AlertPermission>;
}

/** The parts of the browser's Notification API used. */
export interface BrowserNotifications {
  readonly permission: NotificationPermission;
  requestPermission(): Promise<NotificationPermission>;
  create(title: string, options: { body: string; tag?: string }): void;
}

export function createNoticeAlerts(deps: {
  desktop: AutoClawDesktopApi | null | undefined;
  browser: BrowserNotifications | null;
  isAway: () => boolean;
}): NoticeAlerts {
  const { desktop, browser } = deps;
  return {
    show(notice) {
      if (desktop) {
        void desktop.notifyNotice(notice).catch(() => undefined);
        return;
      }
      if (browser && browser.permission === 'granted' && deps.isAway()) {
        browser.create(notice.title, { body: notice.body });
      }
    },
    permission() {
      if (desktop) return 'native';
      return browser ? browser.permission : 'unsupported';
    },
    async request() {
      if (desktop) return 'native';
      if (!browser) return 'unsupported';
      return browser.requestPermission();
    },
  };
}

const CURSOR_KEY = 'autoclaw.lastNoticeSeq';

/** The seq of the newest notice this page has seen (the resume point of `notices.events`). */
export interface NoticeCursor {
  get(): string | null;
  set(seq: string): void;
}

export function storageNoticeCursor(storage: KeyValueStorage): NoticeCursor {
  return {
    get: () => {
      const value = storage.getItem(CURSOR_KEY);
      return value !== null && /^\d{1,15}$/.test(value) ? value : null;
    },
    set: (seq) => {
      const current = Number(storage.getItem(CURSOR_KEY) ?? '0');
      if (/^\d{1,15}$/.test(seq) && Number(seq) > (Number.isFinite(current) ? current : 0)) storage.setItem(CURSOR_KEY, seq);
    },
  };
}
