/**
 * Door passes for the app's connections through the manager's one door
 * (instances.doorPass): each lives two minutes and is checked only when a
 * request or socket starts, so one is kept and reused until 30 s before it
 * runs out; concurrent askers share one call. Without the manager (offline)
 * the call fails and so does the connect, which then retries with backoff.
 */
import type { DoorPass } from '@autoclaw/shared';
import type { DoorPassSource } from './service-url';

const RENEW_BEFORE_MS = 30_000;

export function createDoorPasses(mint: () => Promise<DoorPass>, now: () => number): DoorPassSource {
  let kept: DoorPass | null = null;
  let pending: Promise<DoorPass> | null = null;
  return async () => {
    if (kept && kept.expiresAt - RENEW_BEFORE_MS > now()) return kept.pass;
    pending ??= mint().finally(() => {
      pending = null;
    });
    kept = await pending;
    return kept.pass;
  };
}
