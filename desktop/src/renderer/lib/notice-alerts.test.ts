import { describe, expect, it } from 'vitest';
import type { AutoClawDesktopApi, GatewayNotice } from '../../preload/api';
import { createNoticeAlerts, storageNoticeCursor, type BrowserNotifications } from './notice-alerts';

const down: GatewayNotice = { title: 'Telegram is down', body: 'reconnecting', level: 'error' };

function browser(permission: NotificationPermission): BrowserNotifications & { made: string[] } {
  const made: string[] = [];
  return {
    made,
    permission,
    requestPermission: async () => 'granted',
    create: (title) => void made.push(title),
  };
}

describe('notice alerts', () => {
  it('hands notices to the desktop app when there is one', async () => {
    const sent: GatewayNotice[] = [];
    const desktop = { notifyNotice: async (n: GatewayNotice) => (sent.push(n), 'shown' as const) } as unknown as AutoClawDesktopApi;
    const alerts = createNoticeAlerts({ desktop, browser: browser('denied'), isAway: () => false });
    alerts.show(down);
    expect(sent).toEqual([down]);
    expect(alerts.permission()).toBe('native');
    expect(await alerts.request()).toBe('native');
  });

  it('uses browser notifications only when allowed and the page is away', async () => {
    let away = false;
    const granted = browser('granted');
    const alerts = createNoticeAlerts({ desktop: null, browser: granted, isAway: () => away });
    alerts.show(down);
    expect(granted.made).toEqual([]);
    away = true;
    alerts.show(down);
    expect(granted.made).toEqual(['Telegram is down']);

    const asking = browser('default');
    const ask = createNoticeAlerts({ desktop: null, browser: asking, isAway: () => true });
    ask.show(down);
    expect(asking.made).toEqual([]);
    expect(ask.permission()).toBe('default');
    expect(await ask.request()).toBe('granted');
    expect(createNoticeAlerts({ desktop: null, browser: null, isAway: () => true }).permission()).toBe('unsupported');
  });

  it('keeps the newest seen notice seq, never going back', () => {
    const map = new Map<string, string>();
    const cursor = storageNoticeCursor({ getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v) });
    expect(cursor.get()).toBeNull();
    cursor.set('12');
    cursor.set('9');
    cursor.set('junk');
    expect(cursor.get()).toBe('12');
    map.set('autoclaw.lastNoticeSeq', '<script>');
    expect(cursor.get()).toBeNull();
  });
});
