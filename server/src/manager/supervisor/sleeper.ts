/**
 * Scale to zero: on the leader, every round asks each running instance's
 * gateway what keeps it awake (admin.activity: running turns, connected
 * clients, channels that need a live process) and looks at the door (requests
 * and tunnels open through this replica, and the last use any replica's door
 * recorded in the database). An instance idle for `sleepAfterMs` on
 * the manager's clock is put to sleep — the service checks once more under
 * the instance's lock. The channels that keep an instance awake are recorded,
 * so the app can say which. stop() leaves no timer.
 */
import type { GatewayActivity, Instance } from '@autoclaw/shared';
import type { Fence } from '../db';
import type { DoorUse } from '../door-activity';
import { silentLogger } from '../gateway-parts';
import type { Logger } from '../gateway-parts';

/** What the sleeper needs of the instance service (defined here: the supervisor part does not depend on the instances part). */
export interface SleepingService {
  listLive(): Promise<Instance[]>;
  isBusy(id: string): Promise<boolean>;
  activity(id: string): Promise<GatewayActivity>;
  setKeepAwake(id: string, channels: string[], fence?: Fence): Promise<void>;
  sleep(id: string, reason: string, o: { stillIdle: () => Promise<boolean>; fence?: Fence }): Promise<Instance | null>;
}

export interface SleeperOptions {
  service: SleepingService;
  /** Idle this long → asleep. */
  sleepAfterMs: number;
  /** How often it looks (default: a quarter of sleepAfterMs, between 1 s and 60 s). */
  intervalMs?: number;
  /** The door's use of an instance (this replica's open ones; the last use any replica recorded). */
  doorUse?: (id: string) => DoorUse | Promise<DoorUse>;
  fence?: Fence;
  now?: () => number;
  logger?: Logger;
}

export interface Sleeper {
  start(): void;
  stop(): Promise<void>;
  /** One round now (tests, with an injected clock). */
  tick(): Promise<void>;
}

const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));
const isIdle = (a: GatewayActivity) => a.busySessions === 0 && a.clients === 0 && a.keepAwake.length === 0;
const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

export function createSleeper(opts: SleeperOptions): Sleeper {
  const { service, fence } = opts;
  const now = opts.now ?? Date.now;
  const logger = opts.logger ?? silentLogger;
  const intervalMs = opts.intervalMs ?? Math.min(60_000, Math.max(1_000, Math.floor(opts.sleepAfterMs / 4)));
  const doorUse = opts.doorUse ?? (() => ({ open: 0, lastAt: null }));
  /** When each instance was first seen idle (this leader's clock). */
  const idleSince = new Map<string, number>();
  let timer: NodeJS.Timeout | null = null;
  let ticking: Promise<void> | null = null;

  async function idleNow(id: string): Promise<boolean> {
    if ((await doorUse(id)).open > 0) return false;
    return isIdle(await service.activity(id));
  }

  async function check(instance: Instance): Promise<void> {
    const id = instance.id;
    if (instance.state !== 'running' || (await service.isBusy(id))) return;
    const door = await doorUse(id);
    if (door.open > 0) {
      idleSince.delete(id);
      return;
    }
    const activity = await service.activity(id);
    if (!sameList(activity.keepAwake, instance.keepAwake ?? [])) await service.setKeepAwake(id, activity.keepAwake, fence);
    if (!isIdle(activity)) {
      idleSince.delete(id);
      return;
    }
    const at = now();
    if (!idleSince.has(id)) idleSince.set(id, at);
    const since = Math.max(idleSince.get(id) ?? at, door.lastAt ?? 0);
    if (at - since < opts.sleepAfterMs) return;
    const minutes = Math.round((at - since) / 60_000);
    const reason = `idle for ${minutes >= 1 ? `${minutes} min` : `${Math.round((at - since) / 1000)} s`}: no client, no turn, no channel that needs a live process`;
    const slept = await service.sleep(id, reason, { stillIdle: () => idleNow(id), ...(fence ? { fence } : {}) });
    idleSince.delete(id);
    if (slept) logger.info('instance asleep', { instanceId: id });
  }

  async function round(): Promise<void> {
    const live = await service.listLive();
    for (const id of idleSince.keys()) if (!live.some((i) => i.id === id)) idleSince.delete(id);
    // One at a time: a round asks every gateway, and a host of many instances should not feel it.
    for (const instance of live) {
      await check(instance).catch((err: unknown) => logger.warn('idle check failed', { instanceId: instance.id, err: errText(err) }));
    }
  }

  function tick(): Promise<void> {
    ticking ??= round()
      .catch((err: unknown) => logger.warn('idle round failed', { err: errText(err) }))
      .finally(() => {
        ticking = null;
      });
    return ticking;
  }

  return {
    start() {
      if (timer) return;
      timer = setInterval(() => void tick(), intervalMs);
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await ticking;
    },
    tick,
  };
}
