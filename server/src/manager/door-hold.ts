/**
 * The door during an update: the live gateway serves until its switch.
 * While it drains (its /readyz answers 503) and the new version starts on
 * the same address, a client at the door is held — like during a wake —
 * until the instance answers again, instead of being refused.
 */
import type { Instance } from '@autoclaw/shared';

export interface DoorHoldDeps {
  get(instanceId: string): Promise<Instance | null>;
  /** Longest hold (the wake limit). */
  timeoutMs: number;
  /** Pause between looks (default 20 ms). */
  pollMs?: number;
  /** Called once when the client is held (the instance did not answer at the first look). */
  onHold?: () => void;
}

async function answersReady(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1_000) })).ok;
  } catch {
    return false;
  }
}

/**
 * The instance once it is not `updating`, or is updating and its gateway is
 * ready; after `timeoutMs` it as it is then (the door refuses it clearly).
 */
export async function holdThroughUpdate(deps: DoorHoldDeps, instanceId: string): Promise<Instance | null> {
  const deadline = performance.now() + deps.timeoutMs;
  let held = false;
  for (;;) {
    const instance = await deps.get(instanceId);
    if (!instance || instance.state !== 'updating') return instance;
    if (instance.url !== null && (await answersReady(instance.url))) return instance;
    if (performance.now() >= deadline) return instance;
    if (!held) deps.onHold?.();
    held = true;
    await new Promise((resolve) => setTimeout(resolve, deps.pollMs ?? 20));
  }
}
