import type { BrowserWindow, Notification, NotificationConstructorOptions } from 'electron';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  createNotificationService,
  notificationText,
  type NotificationPort,
  type WindowStatePort,
} from './notification-service';
import { FakeEmitter } from './testing/fake-emitter';

class FakeNotification extends FakeEmitter implements NotificationPort {
  shown = false;
  closed = false;
  constructor(readonly options: NotificationConstructorOptions) {
    super();
  }
  show(): void {
    this.shown = true;
  }
  close(): void {
    this.closed = true;
    this.emit('close');
  }
}

class FakeWindow implements WindowStatePort {
  visible = true;
  focused = true;
  minimized = false;
  isVisible(): boolean {
    return this.visible;
  }
  isFocused(): boolean {
    return this.focused;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
}

function setup() {
  const window = new FakeWindow();
  const made: FakeNotification[] = [];
  const opened: string[] = [];
  let shownWindow = 0;
  const state = { dnd: false, supported: true, unread: 0 };
  const service = createNotificationService({
    createNotification: (options) => {
      const notification = new FakeNotification(options);
      made.push(notification);
      return notification;
    },
    isSupported: () => state.supported,
    window,
    doNotDisturb: () => state.dnd,
    unread: { increment: () => void (state.unread += 1) },
    openSession: (sessionId) => opened.push(sessionId),
    showWindow: () => void (shownWindow += 1),
    productName: 'AutoClaw',
  });
  return { window, made, opened, state, service, shownWindow: () => shownWindow };
}

const notice = { sessionId: 's1', title: 'Trip plans', preview: 'Here is the\nplan for   Tuesday.' };

describe('notification service', () => {
  it('takes the real Electron objects', () => {
    expectTypeOf<Notification>().toExtend<NotificationPort>();
    expectTypeOf<BrowserWindow>().toExtend<WindowStatePort>();
  });

  it('stays quiet while the window is visible and focused', () => {
    const { made, state, service } = setup();
    expect(service.notifyAnswer(notice)).toBe('focused');
    expect(made).toHaveLength(0);
    expect(state.unread).toBe(0);
  });

  it('notifies when the window is hidden, unfocused or minimized', () => {
    const { window, made, state, service } = setup();
    window.visible = false;
    expect(service.notifyAnswer(notice)).toBe('shown');
    window.visible = true;
    window.focused = false;
    expect(service.notifyAnswer({ ...notice, sessionId: 's2' })).toBe('shown');
    window.focused = true;
    window.minimized = true;
    expect(service.notifyAnswer({ ...notice, sessionId: 's3' })).toBe('shown');
    expect(made.map((n) => n.shown)).toEqual([true, true, true]);
    expect(made[0]?.options).toEqual({ title: 'Trip plans', body: 'Here is the plan for Tuesday.' });
    expect(state.unread).toBe(3);
  });

  it('focuses the chat on that session when clicked', () => {
    const { window, made, opened, service } = setup();
    window.visible = false;
    service.notifyAnswer(notice);
    made[0]?.emit('click');
    expect(opened).toEqual(['s1']);
  });

  it('replaces the older notification of the same session', () => {
    const { window, made, service } = setup();
    window.visible = false;
    service.notifyAnswer(notice);
    service.notifyAnswer(notice);
    expect(made[0]?.closed).toBe(true);
    expect(made[1]?.closed).toBe(false);
    service.dispose();
    expect(made[1]?.closed).toBe(true);
  });

  it('respects do-not-disturb and unsupported platforms, but still counts unread', () => {
    const { window, made, state, service } = setup();
    window.visible = false;
    state.dnd = true;
    expect(service.notifyAnswer(notice)).toBe('unread');
    state.dnd = false;
    state.supported = false;
    expect(service.notifyAnswer(notice)).toBe('unread');
    expect(made).toHaveLength(0);
    expect(state.unread).toBe(2);
  });

  it('shortens and flattens text, and falls back to the product name', () => {
    expect(notificationText('a\u0000b\tc\r\nd', 50)).toBe('a b c d');
    expect(notificationText('x'.repeat(300), 10)).toBe(`${'x'.repeat(9)}…`);
    const { window, made, service } = setup();
    window.visible = false;
    service.notifyAnswer({ sessionId: 's9', title: '  \n ', preview: 'hi' });
    expect(made[0]?.options.title).toBe('AutoClaw');
  });

  it('shows a gateway notice only while the window is away, urgent for errors, and brings the window back on click', () => {
    const { window, made, state, service, shownWindow } = setup();
    const down = { title: 'Telegram is down', body: 'No answer from Telegram for 90 s;\nreconnecting.', level: 'error' as const };
    expect(service.notifyNotice(down)).toBe('focused');
    expect(made).toHaveLength(0);
    window.focused = false;
    expect(service.notifyNotice(down)).toBe('shown');
    expect(made[0]?.options).toEqual({ title: 'Telegram is down', body: 'No answer from Telegram for 90 s; reconnecting.', urgency: 'critical' });
    expect(service.notifyNotice({ ...down, level: 'warning' })).toBe('shown');
    expect(made[1]?.options.urgency).toBe('normal');
    made[0]?.emit('click');
    expect(shownWindow()).toBe(1);
    state.dnd = true;
    expect(service.notifyNotice(down)).toBe('unread');
    expect(made).toHaveLength(2);
    service.dispose();
    expect(made[1]?.closed).toBe(true);
  });
});
