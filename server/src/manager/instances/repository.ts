/**
 * The instances tables. A state change is one transaction: it locks and
 * re-reads the row, checks the transition table, updates the row and
 * appends the event — so two writers (two replicas, or the manager and an
 * operator CLI) can never both move the same instance from the same state.
 * A write done as the leader carries its fence, checked in the same
 * transaction: a replica that lost the leader lease cannot write.
 */
import type { Selectable } from 'kysely';
import { AppError } from '@autoclaw/shared';
import type { Instance, InstanceDriverKind, InstanceEvent, InstanceEventKind, InstanceState } from '@autoclaw/shared';
import type { Executor, Fence, ManagerDb } from '../db';
import type { InstanceEventsTable, InstancesTable } from './schema';
import { assertTransition } from './state-machine';

export type InstanceRow = InstancesTable;
type EventRow = Selectable<InstanceEventsTable>;

export type { Fence };

/** Runtime facts stored with a transition (undefined = keep, null = clear). */
export interface RuntimePatch {
  url?: string | null;
  pid?: number | null;
  port?: number | null;
  lastError?: string | null;
  /** Adds to the restart count. */
  restarted?: boolean;
  /** The origins the gateway was launched with. */
  origins?: string[];
  /** The channels that keep it awake (null: none). */
  keepAwake?: string[] | null;
}

export interface NewEvent {
  kind: InstanceEventKind;
  message: string;
  logLines?: string[];
}

const MAX_MESSAGE = 4_000;

export function toInstance(row: InstanceRow): Instance {
  return {
    id: row.id,
    owner: row.owner,
    state: row.state,
    driver: row.driver,
    url: row.url,
    ...(row.pid === null ? {} : { pid: row.pid }),
    ...(row.port === null ? {} : { port: row.port }),
    memoryLimitMb: row.memory_limit_mb,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...(row.last_error === null ? {} : { lastError: row.last_error }),
    restarts: row.restarts,
    ...(keepAwakeOf(row).length === 0 ? {} : { keepAwake: keepAwakeOf(row) }),
    ...(row.is_primary === 0 ? { primary: false as const } : {}),
  };
}

/** A stored JSON array of strings; null when absent or unreadable. */
function stringArray(json: string | null | undefined): string[] | null {
  if (json === null || json === undefined) return null;
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((o): o is string => typeof o === 'string') : null;
  } catch {
    return null;
  }
}

const keepAwakeOf = (row: InstanceRow): string[] => stringArray(row.keep_awake) ?? [];

/** The origins an instance's gateway was launched with; null when not known (launched by an older manager). */
export function launchedOrigins(row: InstanceRow): string[] | null {
  return stringArray(row.origins);
}

function toEvent(row: EventRow): InstanceEvent {
  return {
    id: row.id,
    instanceId: row.instance_id,
    at: row.at,
    kind: row.kind,
    from: row.from_state,
    to: row.to_state,
    message: row.message,
    ...(row.log_lines === null ? {} : { logLines: JSON.parse(row.log_lines) as string[] }),
  };
}

export type InstanceRepository = ReturnType<typeof createInstanceRepository>;

/** Removes what another part keeps per instance, inside the instance's delete transaction (a crash leaves both or neither). */
export type RemoveWith = (t: Executor, instanceId: string) => Promise<void>;

export function createInstanceRepository(db: ManagerDb, now: () => number, onEvent: (e: InstanceEvent) => void, removeWith?: RemoveWith) {
  const pg = db.engine === 'postgres';

  /** The row, locked until the transaction ends (PostgreSQL; SQLite's IMMEDIATE holds the whole database). */
  const lockedRow = (t: Executor, id: string) =>
    t
      .selectFrom('instances')
      .selectAll()
      .where('id', '=', id)
      .$if(pg, (qb) => qb.forUpdate())
      .executeTakeFirst();

  async function appendEvent(t: Executor, id: string, e: NewEvent, from: InstanceState | null, to: InstanceState | null): Promise<InstanceEvent> {
    const row = await t
      .insertInto('instance_events')
      .values({
        instance_id: id,
        at: now(),
        kind: e.kind,
        from_state: from,
        to_state: to,
        message: e.message.slice(0, MAX_MESSAGE),
        log_lines: e.logLines ? JSON.stringify(e.logLines.slice(-50)) : null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toEvent(row);
  }

  async function mustGetIn(t: Executor, id: string, lock = false): Promise<InstanceRow> {
    const row = lock ? await lockedRow(t, id) : await t.selectFrom('instances').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new AppError('NOT_FOUND', `no instance ${id}`);
    return row;
  }

  /** One UPDATE of the row: the new state (if any), runtime facts, error, restart count, origins. */
  async function applyPatch(t: Executor, id: string, patch: RuntimePatch, to: InstanceState | null): Promise<void> {
    await t
      .updateTable('instances')
      .set((eb) => ({
        updated_at: now(),
        ...(to !== null ? { state: to } : {}),
        ...(patch.url !== undefined ? { url: patch.url } : {}),
        ...(patch.pid !== undefined ? { pid: patch.pid } : {}),
        ...(patch.port !== undefined ? { port: patch.port } : {}),
        ...(patch.lastError !== undefined ? { last_error: patch.lastError === null ? null : patch.lastError.slice(0, MAX_MESSAGE) } : {}),
        ...(patch.origins !== undefined ? { origins: JSON.stringify(patch.origins) } : {}),
        ...(patch.keepAwake !== undefined ? { keep_awake: patch.keepAwake === null || patch.keepAwake.length === 0 ? null : JSON.stringify(patch.keepAwake) } : {}),
        ...(patch.restarted ? { restarts: eb('restarts', '+', 1) } : {}),
      }))
      .where('id', '=', id)
      .execute();
  }

  async function get(id: string): Promise<InstanceRow | null> {
    return (await db.k.selectFrom('instances').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
  }

  return {
    get,
    mustGet: (id: string): Promise<InstanceRow> => mustGetIn(db.k, id),
    /** The owner's primary instance. */
    async byOwner(owner: string): Promise<InstanceRow | null> {
      return (await db.k.selectFrom('instances').selectAll().where('owner', '=', owner).where('is_primary', '=', 1).executeTakeFirst()) ?? null;
    },
    /** Every instance of the owner, the primary first. */
    ownedBy: (owner: string): Promise<InstanceRow[]> =>
      db.k.selectFrom('instances').selectAll().where('owner', '=', owner).orderBy('is_primary', 'desc').orderBy('created_at').orderBy('id').execute(),
    /** Makes `id` its owner's primary instance (the others not), in one transaction. */
    async setPrimary(id: string): Promise<InstanceRow> {
      return db.tx(async (t) => {
        const row = await mustGetIn(t, id, true);
        if (row.state === 'deleting' || row.state === 'provisioning' || row.state === 'restoring') throw new AppError('CONFLICT', `instance ${id} is ${row.state}; it becomes primary once it is made`);
        await t.updateTable('instances').set({ is_primary: 0 }).where('owner', '=', row.owner).where('id', '!=', id).execute();
        await t.updateTable('instances').set({ is_primary: 1, updated_at: now() }).where('id', '=', id).execute();
        return mustGetIn(t, id);
      });
    },
    list: (): Promise<InstanceRow[]> => db.k.selectFrom('instances').selectAll().orderBy('created_at').orderBy('id').execute(),
    /** `secondary`: another instance of an owner who has one (else CONFLICT when the owner has a primary). */
    async create(input: { id: string; owner: string; driver: InstanceDriverKind; wrappedKey: string; memoryLimitMb: number; secondary?: boolean }, reason: string): Promise<InstanceRow> {
      const { row, event } = await db.tx(async (t) => {
        const taken = await t.selectFrom('instances').select('id').where('owner', '=', input.owner).where('is_primary', '=', 1).executeTakeFirst();
        if (taken && !input.secondary) throw new AppError('CONFLICT', `${input.owner} already has an instance (one per user)`);
        const at = now();
        try {
          await t
            .insertInto('instances')
            .values({
              id: input.id,
              owner: input.owner,
              state: 'provisioning',
              driver: input.driver,
              wrapped_key: input.wrappedKey,
              memory_limit_mb: input.memoryLimitMb,
              url: null,
              pid: null,
              port: null,
              restarts: 0,
              last_error: null,
              created_at: at,
              updated_at: at,
              origins: null,
              keep_awake: null,
              is_primary: taken ? 0 : 1,
            })
            .execute();
        } catch (err) {
          // Another replica made it between the check and the insert (PostgreSQL's READ COMMITTED).
          if ((err as { code?: unknown }).code === '23505') throw new AppError('CONFLICT', `${input.owner} already has an instance (one per user)`);
          throw err;
        }
        const made = await appendEvent(t, input.id, { kind: 'transition', message: reason }, null, 'provisioning');
        return { row: await mustGetIn(t, input.id), event: made };
      });
      onEvent(event);
      return row;
    },
    /** Moves the instance to `to` (one transaction with its event); CONFLICT when illegal, not in `expect`, or the fence is stale. */
    async transition(id: string, to: InstanceState, reason: string, patch: RuntimePatch = {}, expect?: readonly InstanceState[], fence?: Fence): Promise<InstanceRow> {
      const { row, event } = await db.tx(async (t) => {
        if (fence) await fence(t);
        const current = await mustGetIn(t, id, true);
        if (expect && !expect.includes(current.state)) {
          throw new AppError('CONFLICT', `instance ${id} is ${current.state}, not ${expect.join(' or ')}`, { details: { from: current.state, to } });
        }
        assertTransition(current.state, to, id);
        await applyPatch(t, id, patch, to);
        const made = await appendEvent(t, id, { kind: 'transition', message: reason, ...(patch.lastError ? { logLines: patch.lastError.split('\n') } : {}) }, current.state, to);
        return { row: await mustGetIn(t, id), event: made };
      });
      onEvent(event);
      return row;
    },
    /** Updates runtime facts without a state change, with an optional event. */
    async update(id: string, patch: RuntimePatch, e: NewEvent | null = null, fence?: Fence): Promise<InstanceRow> {
      const out = await db.tx(async (t) => {
        if (fence) await fence(t);
        await mustGetIn(t, id, true);
        await applyPatch(t, id, patch, null);
        const made = e ? await appendEvent(t, id, e, null, null) : null;
        return { row: await mustGetIn(t, id), event: made };
      });
      if (out.event) onEvent(out.event);
      return out.row;
    },
    /** An event that is not a state change (from/to null). */
    async event(id: string, e: NewEvent, fence?: Fence): Promise<InstanceEvent> {
      const made = await db.tx(async (t) => {
        if (fence) await fence(t);
        await mustGetIn(t, id);
        return appendEvent(t, id, e, null, null);
      });
      onEvent(made);
      return made;
    },
    async setMemoryLimit(id: string, mb: number): Promise<InstanceRow> {
      await db.k.updateTable('instances').set({ memory_limit_mb: mb, updated_at: now() }).where('id', '=', id).execute();
      return mustGetIn(db.k, id);
    },
    async eventsAfter(id: string, afterId: number, limit = 500): Promise<InstanceEvent[]> {
      const rows = await db.k.selectFrom('instance_events').selectAll().where('instance_id', '=', id).where('id', '>', afterId).orderBy('id').limit(limit).execute();
      return rows.map(toEvent);
    },
    async lastEvents(id: string, limit = 100): Promise<InstanceEvent[]> {
      const rows = await db.k.selectFrom('instance_events').selectAll().where('instance_id', '=', id).orderBy('id', 'desc').limit(limit).execute();
      return rows.reverse().map(toEvent);
    },
    /** Removes the row (its events go with it); only from `deleting`. */
    async remove(id: string): Promise<void> {
      await db.tx(async (t) => {
        const row = await lockedRow(t, id);
        if (!row) return;
        if (row.state !== 'deleting') throw new AppError('CONFLICT', `instance ${id} is ${row.state}, not deleting`);
        await t.deleteFrom('instance_events').where('instance_id', '=', id).execute();
        await t.deleteFrom('instances').where('id', '=', id).execute();
        if (row.is_primary === 1) {
          // The account keeps a primary while it has an instance: its oldest other one.
          const next = await t.selectFrom('instances').select('id').where('owner', '=', row.owner).orderBy('created_at').orderBy('id').executeTakeFirst();
          if (next) await t.updateTable('instances').set({ is_primary: 1 }).where('id', '=', next.id).execute();
        }
        await removeWith?.(t, id);
      });
    },
  };
}

/** Every instance as stored (for the CLI's list without a manager: no keys, no driver needed). */
export async function listStoredInstances(db: ManagerDb): Promise<Instance[]> {
  const rows = await db.k.selectFrom('instances').selectAll().orderBy('created_at').orderBy('id').execute();
  return rows.map(toInstance);
}
