/**
 * What the one door sees of each instance: requests and WebSocket tunnels
 * open now, and when the last one began or ended (the manager's clock). The
 * sleeper reads it so an instance a client is using is not put to sleep.
 *
 * Several replicas: the sleeper runs on the leader only, while clients may
 * come through any replica's door. So each replica also writes when it last
 * saw an instance used into the database (`door_activity`), at most once per
 * instance per `writeEveryMs` (a busy door does not write per request), and
 * the leader takes the later of its own and the shared time. A WebSocket
 * tunnel needs no more than its start and end here: while it is open the
 * gateway counts it as a connected client.
 */
import { migratePart } from './db';
import type { Executor, ManagerDb, Migration } from './db';
import type { Logger } from './gateway-parts';

export interface DoorUse {
  /** Requests and tunnels open now (through this replica). */
  open: number;
  /** When the last one began or ended; null when none came since the manager started. */
  lastAt: number | null;
}

export interface DoorActivity {
  /** A request or tunnel began; call the answer when it ended. */
  begin(instanceId: string): () => void;
  /** This replica's view. */
  of(instanceId: string): DoorUse;
  /** This replica's view, with the last use any replica recorded. */
  shared(instanceId: string): Promise<DoorUse>;
  /** Deletes the instance's row inside `t` (its delete transaction) and forgets it here. */
  removeIn(t: Executor, instanceId: string): Promise<void>;
  /** Waits for the writes under way (tests, shutdown). */
  flush(): Promise<void>;
}

export interface DoorActivityTable {
  instance_id: string;
  last_at: number;
}

declare module './db/types' {
  interface ManagerTables {
    door_activity: DoorActivityTable;
  }
}

const V1: Migration = (w) => [`CREATE TABLE door_activity (instance_id TEXT PRIMARY KEY, last_at ${w.int} NOT NULL)`];

export const DOOR_ACTIVITY_MIGRATIONS: readonly Migration[] = [V1];

/** Default: one write per instance per 10 s (the idle time is minutes). */
export const DOOR_ACTIVITY_WRITE_EVERY_MS = 10_000;

export async function migrateDoorActivity(db: ManagerDb): Promise<void> {
  await migratePart(db, 'door', DOOR_ACTIVITY_MIGRATIONS);
}

export interface DoorActivityOptions {
  now: () => number;
  /** Where every replica records the last use (absent: this replica's view only). */
  db?: ManagerDb;
  writeEveryMs?: number;
  logger?: Logger;
}

export function createDoorActivity(opts: DoorActivityOptions): DoorActivity {
  const { now, db } = opts;
  const writeEveryMs = opts.writeEveryMs ?? DOOR_ACTIVITY_WRITE_EVERY_MS;
  const uses = new Map<string, DoorUse>();
  /** When this replica last wrote each instance's use. */
  const written = new Map<string, number>();
  const pending = new Set<Promise<void>>();

  function record(instanceId: string, at: number): void {
    if (!db) return;
    const last = written.get(instanceId);
    if (last !== undefined && at - last < writeEveryMs) return;
    written.set(instanceId, at);
    const write = db.k
      .insertInto('door_activity')
      .values({ instance_id: instanceId, last_at: at })
      .onConflict((oc) => oc.column('instance_id').doUpdateSet({ last_at: at }).where('door_activity.last_at', '<', at))
      .execute()
      .then(
        () => undefined,
        (err: unknown) => {
          written.delete(instanceId);
          opts.logger?.warn('door: could not record the use of an instance', { instanceId, err: err instanceof Error ? err.message : String(err) });
        },
      );
    pending.add(write);
    void write.finally(() => pending.delete(write));
  }

  function touch(instanceId: string, use: DoorUse): void {
    use.lastAt = now();
    record(instanceId, use.lastAt);
  }

  return {
    begin(instanceId) {
      let use = uses.get(instanceId);
      if (!use) uses.set(instanceId, (use = { open: 0, lastAt: null }));
      const u = use;
      u.open += 1;
      touch(instanceId, u);
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        u.open -= 1;
        touch(instanceId, u);
      };
    },
    of: (instanceId) => uses.get(instanceId) ?? { open: 0, lastAt: null },
    async removeIn(t, instanceId) {
      await t.deleteFrom('door_activity').where('instance_id', '=', instanceId).execute();
      uses.delete(instanceId);
      written.delete(instanceId);
    },
    async shared(instanceId) {
      const mine = uses.get(instanceId) ?? { open: 0, lastAt: null };
      if (!db) return mine;
      const row = await db.k.selectFrom('door_activity').select('last_at').where('instance_id', '=', instanceId).executeTakeFirst();
      const theirs = row ? Number(row.last_at) : null;
      return { open: mine.open, lastAt: theirs === null ? mine.lastAt : Math.max(theirs, mine.lastAt ?? 0) };
    },
    async flush() {
      await Promise.all([...pending]);
    },
  };
}
