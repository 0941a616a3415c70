/**
 * The instances tables. A state change is one transaction: it re-reads the
 * current state, checks the transition table, updates the row and appends
 * the event — so two writers (the manager and an operator CLI) can never
 * both move the same instance from the same state.
 */
import { AppError } from '@autoclaw/shared';
import type { Instance, InstanceDriverKind, InstanceEvent, InstanceEventKind, InstanceState } from '@autoclaw/shared';
import type { ManagerDb } from '../db';
import { assertTransition } from './state-machine';

export interface InstanceRow {
  id: string;
  owner: string;
  state: InstanceState;
  driver: InstanceDriverKind;
  url: string | null;
  pid: number | null;
  port: number | null;
  wrapped_key: string;
  memory_limit_mb: number;
  restarts: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

interface EventRow {
  id: number;
  instance_id: string;
  at: number;
  kind: InstanceEventKind;
  from_state: InstanceState | null;
  to_state: InstanceState | null;
  message: string;
  log_lines: string | null;
}

/** Runtime facts stored with a transition (undefined = keep, null = clear). */
export interface RuntimePatch {
  url?: string | null;
  pid?: number | null;
  port?: number | null;
  lastError?: string | null;
  /** Adds to the restart count. */
  restarted?: boolean;
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
  };
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

export function createInstanceRepository(db: ManagerDb, now: () => number, onEvent: (e: InstanceEvent) => void) {
  const byId = db.prepare<[string], InstanceRow>('SELECT * FROM instances WHERE id = ?');
  const byOwner = db.prepare<[string], InstanceRow>('SELECT * FROM instances WHERE owner = ?');
  const all = db.prepare<[], InstanceRow>('SELECT * FROM instances ORDER BY created_at, id');
  const insertRow = db.prepare(
    `INSERT INTO instances (id, owner, state, driver, wrapped_key, memory_limit_mb, created_at, updated_at)
     VALUES (@id, @owner, 'provisioning', @driver, @wrappedKey, @memoryLimitMb, @at, @at)`,
  );
  const insertEvent = db.prepare<[string, number, string, string | null, string | null, string, string | null]>(
    'INSERT INTO instance_events (instance_id, at, kind, from_state, to_state, message, log_lines) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const eventById = db.prepare<[number | bigint], EventRow>('SELECT * FROM instance_events WHERE id = ?');
  const eventsAfter = db.prepare<[string, number, number], EventRow>(
    'SELECT * FROM instance_events WHERE instance_id = ? AND id > ? ORDER BY id LIMIT ?',
  );
  const lastEvents = db.prepare<[string, number], EventRow>(
    'SELECT * FROM (SELECT * FROM instance_events WHERE instance_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id',
  );
  const deleteRow = db.prepare<[string]>('DELETE FROM instances WHERE id = ?');

  function appendEvent(id: string, e: NewEvent, from: InstanceState | null, to: InstanceState | null): InstanceEvent {
    const info = insertEvent.run(id, now(), e.kind, from, to, e.message.slice(0, MAX_MESSAGE), e.logLines ? JSON.stringify(e.logLines.slice(-50)) : null);
    return toEvent(eventById.get(info.lastInsertRowid) as EventRow);
  }

  function mustGet(id: string): InstanceRow {
    const row = byId.get(id);
    if (!row) throw new AppError('NOT_FOUND', `no instance ${id}`);
    return row;
  }

  /** One UPDATE of the row: the new state (if any), runtime facts, error, restart count. */
  function applyPatch(id: string, patch: RuntimePatch, to: InstanceState | null): void {
    const sets = ['updated_at = @at'];
    const params: Record<string, unknown> = { id, at: now() };
    if (to !== null) {
      sets.push('state = @to');
      params['to'] = to;
    }
    for (const key of ['url', 'pid', 'port'] as const) {
      if (patch[key] !== undefined) {
        sets.push(`${key} = @${key}`);
        params[key] = patch[key];
      }
    }
    if (patch.lastError !== undefined) {
      sets.push('last_error = @lastError');
      params['lastError'] = patch.lastError === null ? null : patch.lastError.slice(0, MAX_MESSAGE);
    }
    if (patch.restarted) sets.push('restarts = restarts + 1');
    db.prepare(`UPDATE instances SET ${sets.join(', ')} WHERE id = @id`).run(params);
  }

  const transitionTx = db.transaction((id: string, to: InstanceState, reason: string, patch: RuntimePatch, expect?: readonly InstanceState[]) => {
    const row = mustGet(id);
    if (expect && !expect.includes(row.state)) {
      throw new AppError('CONFLICT', `instance ${id} is ${row.state}, not ${expect.join(' or ')}`, { details: { from: row.state, to } });
    }
    assertTransition(row.state, to, id);
    applyPatch(id, patch, to);
    const event = appendEvent(id, { kind: 'transition', message: reason, ...(patch.lastError ? { logLines: patch.lastError.split('\n') } : {}) }, row.state, to);
    return { row: mustGet(id), event };
  });

  const runtimeTx = db.transaction((id: string, patch: RuntimePatch, e: NewEvent | null) => {
    mustGet(id);
    applyPatch(id, patch, null);
    const event = e ? appendEvent(id, e, null, null) : null;
    return { row: mustGet(id), event };
  });

  const createTx = db.transaction((input: { id: string; owner: string; driver: InstanceDriverKind; wrappedKey: string; memoryLimitMb: number }, reason: string) => {
    if (byOwner.get(input.owner)) throw new AppError('CONFLICT', `${input.owner} already has an instance (one per user)`);
    insertRow.run({ ...input, at: now() });
    const event = appendEvent(input.id, { kind: 'transition', message: reason }, null, 'provisioning');
    return { row: mustGet(input.id), event };
  });

  return {
    get: (id: string): InstanceRow | null => byId.get(id) ?? null,
    mustGet,
    byOwner: (owner: string): InstanceRow | null => byOwner.get(owner) ?? null,
    list: (): InstanceRow[] => all.all(),
    create(input: { id: string; owner: string; driver: InstanceDriverKind; wrappedKey: string; memoryLimitMb: number }, reason: string): InstanceRow {
      const { row, event } = createTx.immediate(input, reason);
      onEvent(event);
      return row;
    },
    /** Moves the instance to `to` (one transaction with its event); CONFLICT when illegal or not in `expect`. */
    transition(id: string, to: InstanceState, reason: string, patch: RuntimePatch = {}, expect?: readonly InstanceState[]): InstanceRow {
      const { row, event } = transitionTx.immediate(id, to, reason, patch, expect);
      onEvent(event);
      return row;
    },
    /** Updates runtime facts without a state change, with an optional event. */
    update(id: string, patch: RuntimePatch, event: NewEvent | null = null): InstanceRow {
      const out = runtimeTx.immediate(id, patch, event);
      if (out.event) onEvent(out.event);
      return out.row;
    },
    /** An event that is not a state change (from/to null). */
    event(id: string, e: NewEvent): InstanceEvent {
      mustGet(id);
      const event = appendEvent(id, e, null, null);
      onEvent(event);
      return event;
    },
    setMemoryLimit(id: string, mb: number): InstanceRow {
      db.prepare('UPDATE instances SET memory_limit_mb = ?, updated_at = ? WHERE id = ?').run(mb, now(), id);
      return mustGet(id);
    },
    eventsAfter: (id: string, afterId: number, limit = 500): InstanceEvent[] => eventsAfter.all(id, afterId, limit).map(toEvent),
    lastEvents: (id: string, limit = 100): InstanceEvent[] => lastEvents.all(id, limit).map(toEvent),
    /** Removes the row (its events go with it); only from `deleting`. */
    remove(id: string): void {
      db.transaction(() => {
        const row = byId.get(id);
        if (!row) return;
        if (row.state !== 'deleting') throw new AppError('CONFLICT', `instance ${id} is ${row.state}, not deleting`);
        deleteRow.run(id);
      }).immediate();
    },
  };
}

/** Every instance as stored (for the CLI's list without a manager: no keys, no driver needed). */
export function listStoredInstances(db: ManagerDb): Instance[] {
  return (db.prepare('SELECT * FROM instances ORDER BY created_at, id').all() as InstanceRow[]).map(toInstance);
}
