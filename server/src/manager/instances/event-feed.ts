/**
 * Live instance events for the instances.events subscription: a reader
 * catches up from the table after its last seen id, then waits for the next
 * event of its instance. Events written by another process (the operator
 * CLI, another replica) are picked up by a slow poll, so nothing is ever missed.
 */
import type { InstanceEvent } from '@autoclaw/shared';

export interface EventFeed {
  /** Called after an event's transaction committed. */
  publish(event: InstanceEvent): void;
  /**
   * Yields the events of `instanceId` after `afterId`, then new ones as they
   * come, until `signal` aborts or the instance is gone.
   */
  watch(instanceId: string, afterId: number, signal: AbortSignal): AsyncGenerator<InstanceEvent>;
  /** Wakes every reader so it can see that the feed is closing. */
  close(): void;
}

export interface EventFeedDeps {
  read(instanceId: string, afterId: number): Promise<InstanceEvent[]>;
  exists(instanceId: string): Promise<boolean>;
  /** How long a reader waits before looking at the table again anyway (default 1 s). */
  pollMs?: number;
}

export function createEventFeed(deps: EventFeedDeps): EventFeed {
  const pollMs = deps.pollMs ?? 1_000;
  const versions = new Map<string, number>();
  const waiters = new Map<string, Set<() => void>>();
  let closed = false;

  function wake(instanceId: string): void {
    for (const w of [...(waiters.get(instanceId) ?? [])]) w();
  }

  function waitForChange(instanceId: string, seen: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if ((versions.get(instanceId) ?? 0) !== seen || signal.aborted || closed) return resolve();
      let set = waiters.get(instanceId);
      if (!set) waiters.set(instanceId, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0) waiters.delete(instanceId);
        resolve();
      };
      const timer = setTimeout(done, pollMs);
      signal.addEventListener('abort', done);
      set.add(done);
    });
  }

  return {
    publish(event) {
      versions.set(event.instanceId, (versions.get(event.instanceId) ?? 0) + 1);
      wake(event.instanceId);
    },
    async *watch(instanceId, afterId, signal) {
      let last = afterId;
      while (!signal.aborted && !closed) {
        // Read the version first: an event published during the read is not slept through.
        const seen = versions.get(instanceId) ?? 0;
        const batch = await deps.read(instanceId, last);
        for (const event of batch) {
          last = event.id;
          yield event;
        }
        if (batch.length > 0) continue;
        if (!(await deps.exists(instanceId))) return;
        await waitForChange(instanceId, seen, signal);
      }
    },
    close() {
      closed = true;
      for (const id of [...waiters.keys()]) wake(id);
    },
  };
}
