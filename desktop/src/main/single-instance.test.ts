import type { App } from 'electron';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { claimSingleInstance, type SingleInstanceAppPort } from './single-instance';
import { FakeEmitter, FakeEvent } from './testing/fake-emitter';

class FakeApp extends FakeEmitter implements SingleInstanceAppPort {
  quitCalls = 0;
  lockData: unknown = undefined;
  constructor(private readonly gotLock: boolean) {
    super();
  }
  requestSingleInstanceLock(additionalData?: Record<string, unknown>): boolean {
    this.lockData = additionalData;
    return this.gotLock;
  }
  quit(): void {
    this.quitCalls += 1;
  }
}

function setup(gotLock: boolean, argv: string[] = ['/opt/AutoClaw/autoclaw']) {
  const app = new FakeApp(gotLock);
  const calls: string[] = [];
  const primary = claimSingleInstance({
    app,
    argv,
    focus: () => calls.push('focus'),
    handleLink: (raw) => calls.push(`link ${raw}`),
  });
  return { app, calls, primary };
}

describe('single instance', () => {
  it('takes the real Electron app', () => {
    expectTypeOf<App>().toExtend<SingleInstanceAppPort>();
  });

  it('a second instance hands over its link and quits', () => {
    const { app, calls, primary } = setup(false, ['/opt/AutoClaw/autoclaw', 'autoclaw://open?session=s1']);
    expect(primary).toBe(false);
    expect(app.quitCalls).toBe(1);
    expect(app.lockData).toEqual({ deepLink: 'autoclaw://open?session=s1' });
    expect(app.listenerCount('second-instance')).toBe(0);
    expect(calls).toEqual([]);
  });

  it('the first instance focuses and forwards the link of a second launch', () => {
    const { app, calls, primary } = setup(true);
    expect(primary).toBe(true);
    expect(app.lockData).toEqual({ deepLink: null });
    app.emit('second-instance', new FakeEvent(), ['/x', '--flag'], '/home/u', { deepLink: 'autoclaw://open?session=s2' });
    app.emit('second-instance', new FakeEvent(), ['/x', 'autoclaw://pair?code=ABCD-EFGH'], '/home/u', {});
    app.emit('second-instance', new FakeEvent(), ['/x'], '/home/u', { deepLink: 42 });
    expect(calls).toEqual([
      'focus',
      'link autoclaw://open?session=s2',
      'focus',
      'link autoclaw://pair?code=ABCD-EFGH',
      'focus',
    ]);
  });

  it('takes macOS open-url links and stops the default handling', () => {
    const { app, calls } = setup(true);
    const event = new FakeEvent();
    app.emit('open-url', event, 'autoclaw://open?session=s3');
    expect(event.defaultPrevented).toBe(true);
    expect(calls).toEqual(['focus', 'link autoclaw://open?session=s3']);
  });
});
