/**
 * A native notification when an answer arrives while the chat is not in
 * front of the user (window hidden, minimized or unfocused). Clicking it
 * brings the window back on that session. Do-not-disturb silences the
 * notification but still counts the answer as unread. Electron's Notification
 * (constructor and isSupported) and the BrowserWindow are injected.
 */
import type { BrowserWindow, Notification, NotificationConstructorOptions } from 'electron';
import type { AnswerNotice, GatewayNotice, NotifyOutcome } from '../preload/api';

export interface NotificationPort extends Pick<Notification, 'show' | 'close'> {
  on(event: 'click' | 'close', listener: () => void): unknown;
}

export type WindowStatePort = Pick<BrowserWindow, 'isVisible' | 'isFocused' | 'isMinimized'>;

export interface NotificationServiceOptions {
  createNotification: (options: NotificationConstructorOptions) => NotificationPort;
  isSupported: () => boolean;
  window: WindowStatePort;
  doNotDisturb: () => boolean;
  unread: { increment(): void };
  /** Shows and focuses the window on this session. */
  openSession: (sessionId: string) => void;
  /** Shows and focuses the window. */
  showWindow: () => void;
  productName: string;
}

export interface NotificationService {
  notifyAnswer(notice: AnswerNotice): NotifyOutcome;
  /** A gateway notice (budget, channel state): shown when the window is away; clicking brings the window back. */
  notifyNotice(notice: GatewayNotice): NotifyOutcome;
  /** Closes every notification still on screen. */
  dispose(): void;
}

const TITLE_CHARS = 80;
const BODY_CHARS = 200;

/** One line of plain text: no control characters, collapsed spaces, shortened with an ellipsis. */
export function notificationText(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}

export function createNotificationService(options: NotificationServiceOptions): NotificationService {
  /** Live notifications by session: a newer answer replaces the older notification. */
  const live = new Map<string, NotificationPort>();
  /** Gateway notices on screen (held so their click handlers stay alive). */
  const notices = new Set<NotificationPort>();

  function inFront(): boolean {
    const { window } = options;
    return window.isVisible() && window.isFocused() && !window.isMinimized();
  }

  return {
    notifyAnswer(notice) {
      if (inFront()) return 'focused';
      options.unread.increment();
      if (options.doNotDisturb() || !options.isSupported()) return 'unread';
      live.get(notice.sessionId)?.close();
      const notification = options.createNotification({
        title: notificationText(notice.title, TITLE_CHARS) || options.productName,
        body: notificationText(notice.preview, BODY_CHARS),
      });
      // Holding a reference keeps the click handler alive (Electron drops collected notifications).
      live.set(notice.sessionId, notification);
      const forget = (): void => {
        if (live.get(notice.sessionId) === notification) live.delete(notice.sessionId);
      };
      notification.on('click', () => {
        forget();
        options.openSession(notice.sessionId);
      });
      notification.on('close', forget);
      notification.show();
      return 'shown';
    },
    notifyNotice(notice) {
      if (inFront()) return 'focused';
      if (options.doNotDisturb() || !options.isSupported()) return 'unread';
      const notification = options.createNotification({
        title: notificationText(notice.title, TITLE_CHARS) || options.productName,
        body: notificationText(notice.body, BODY_CHARS),
        urgency: notice.level === 'error' ? 'critical' : 'normal',
      });
      notices.add(notification);
      notification.on('click', () => {
        notices.delete(notification);
        options.showWindow();
      });
      notification.on('close', () => notices.delete(notification));
      notification.show();
      return 'shown';
    },
    dispose() {
      for (const notification of live.values()) notification.close();
      for (const notification of notices) notification.close();
      live.clear();
      notices.clear();
    },
  };
}
