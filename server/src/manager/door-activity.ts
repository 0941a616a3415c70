/**
 * What the one door sees of each instance: requests and WebSocket tunnels
 * open now, and when the last one began or ended (the manager's clock). The
 * sleeper reads it so an instance a client is using through this replica's
 * door is not put to sleep.
 */
export interface DoorUse {
  /** Requests and tunnels open now. */
  open: number;
  /** When the last one began or ended; null when none came since the manager started. */
  lastAt: number | null;
}

export interface DoorActivity {
  /** A request or tunnel began; call the answer when it ended. */
  begin(instanceId: string): () => void;
  of(instanceId: string): DoorUse;
}

export function createDoorActivity(now: () => number): DoorActivity {
  const uses = new Map<string, DoorUse>();
  return {
    begin(instanceId) {
      let use = uses.get(instanceId);
      if (!use) uses.set(instanceId, (use = { open: 0, lastAt: null }));
      const u = use;
      u.open += 1;
      u.lastAt = now();
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        u.open -= 1;
        u.lastAt = now();
      };
    },
    of: (instanceId) => uses.get(instanceId) ?? { open: 0, lastAt: null },
  };
}
