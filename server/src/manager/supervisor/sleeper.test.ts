/**
 * The sleeper's decisions on an injected clock, against a recorded service:
 * idle (no turn, no client, no channel that needs a live process, nothing at
 * the door) for the whole setting → asleep; anything else keeps it awake and
 * restarts the idle time; the channels that keep it awake are recorded.
 */
import { describe, expect, it } from 'vitest';
import type { GatewayActivity, Instance } from '@autoclaw/shared';
import type { DoorUse } from '../door-activity';
import { createSleeper } from './sleeper';
import type { SleepingService } from './sleeper';

const MIN = 60_000;

function world() {
  let clock = 1_000_000;
  const instance: Instance = { id: 'inst-a', owner: 'a@example.com', state: 'running', driver: 'local', url: 'http://127.0.0.1:1', memoryLimitMb: 512, createdAt: 0, updatedAt: 0, restarts: 0 };
  const activity: GatewayActivity = { busySessions: 0, clients: 0, keepAwake: [] };
  let door: DoorUse = { open: 0, lastAt: null };
  const slept: string[] = [];
  const recorded: string[][] = [];
  const service: SleepingService = {
    listLive: async () => (instance.state === 'running' ? [{ ...instance }] : []),
    isBusy: async () => false,
    activity: async () => ({ ...activity, keepAwake: [...activity.keepAwake] }),
    setKeepAwake: async (_id, channels) => {
      recorded.push(channels);
      instance.keepAwake = channels;
    },
    sleep: async (id, reason, o) => {
      if (!(await o.stillIdle())) return null;
      slept.push(`${id}: ${reason}`);
      instance.state = 'sleeping';
      return { ...instance };
    },
  };
  const sleeper = createSleeper({ service, sleepAfterMs: 15 * MIN, now: () => clock, doorUse: () => door });
  return {
    sleeper,
    slept,
    recorded,
    activity,
    instance,
    advance: (ms: number) => (clock += ms),
    setDoor: (d: DoorUse) => (door = d),
    now: () => clock,
  };
}

describe('the sleeper', () => {
  it('puts an instance idle for the whole setting to sleep, not before', async () => {
    const w = world();
    await w.sleeper.tick();
    w.advance(15 * MIN - 1);
    await w.sleeper.tick();
    expect(w.slept).toEqual([]);
    w.advance(1);
    await w.sleeper.tick();
    expect(w.slept).toEqual(['inst-a: idle for 15 min: no client, no turn, no channel that needs a live process']);
  });

  it('a running turn, a connected client or a request at the door keep it awake and start the idle time again', async () => {
    const w = world();
    await w.sleeper.tick();
    w.advance(10 * MIN);
    w.activity.busySessions = 1;
    await w.sleeper.tick();
    w.activity.busySessions = 0;
    w.activity.clients = 2;
    w.advance(10 * MIN);
    await w.sleeper.tick();
    w.activity.clients = 0;
    await w.sleeper.tick();
    w.advance(10 * MIN);
    // A tunnel open at the door right now: awake whatever the gateway says.
    w.setDoor({ open: 1, lastAt: w.now() });
    await w.sleeper.tick();
    expect(w.slept).toEqual([]);
    // The last request ended 5 minutes later; idle counts from then.
    w.advance(5 * MIN);
    w.setDoor({ open: 0, lastAt: w.now() });
    await w.sleeper.tick();
    w.advance(15 * MIN - 1);
    await w.sleeper.tick();
    expect(w.slept).toEqual([]);
    w.advance(1);
    await w.sleeper.tick();
    expect(w.slept).toHaveLength(1);
  });

  it('a channel that needs a live process keeps it awake, and is recorded so the app can say which', async () => {
    const w = world();
    w.activity.keepAwake = ['discord'];
    await w.sleeper.tick();
    w.advance(60 * MIN);
    await w.sleeper.tick();
    expect(w.slept).toEqual([]);
    expect(w.instance.keepAwake).toEqual(['discord']);
    // Switched off: recorded as none, then it may sleep.
    w.activity.keepAwake = [];
    await w.sleeper.tick();
    expect(w.recorded).toEqual([['discord'], []]);
    w.advance(15 * MIN);
    await w.sleeper.tick();
    expect(w.slept).toHaveLength(1);
  });

  it('stop() leaves no timer', async () => {
    const w = world();
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    w.sleeper.start();
    expect(timers()).toBe(before + 1);
    await w.sleeper.stop();
    expect(timers()).toBe(before);
  });
});
