/**
 * The budget book: what the caps weigh a call against, kept in memory so the
 * decision before a provider call takes no commit. It holds the caps, the
 * running spend of the current day, month and each session it has seen, and
 * every open reservation (the file's rows plus this process's not yet
 * written). It is loaded from SQLite and loaded again whenever another
 * connection committed (`PRAGMA data_version`), a cap changed, or the day or
 * month turned. A decision and its hold are one synchronous step, so no
 * number of concurrent turns in this process can pass a cap together.
 *
 * What a hold or a settled call must write (its reservation row, the usage row
 * and the running totals) waits in a queue that the next store call, the
 * batched write at the end of the tick, or `durable()` (at once) commits in ONE
 * transaction; the agent awaits `durable()` before the request leaves, so the
 * reservation is in the file before any money can be spent. After kill -9 the
 * rows a dead process left are cleared at the next start (recover()), as before.
 */
import type { BudgetCapName, BudgetExceededDetails, CapSource } from '@autoclaw/shared';
import { budgetRefusal } from './budget-refusal';
import { DEFAULT_BUDGET_ZONE, effectiveOf, type Spend, type SpendTracker } from './budget-spend';
import type { StoreContext } from './context';
import type { BudgetReservationInput, SoftLine } from './types';
import type { BudgetBook, Held, Hold, Op, UsageWrite, View } from './budget-book-types';
export type { BudgetBook, Held, UsageWrite } from './budget-book-types';

/**
 * How long a check of `PRAGMA data_version` stays good: only another process
 * (the CLI changing a cap) commits beside the gateway, and a person's next
 * message comes long after its commit.
 */
const FRESH_MS = 1;

/** Reservation ids this book hands out: above any rowid a gateway will reach, so a foreign row's id never collides. */
const HOLD_BASE = 2 ** 40;

export function createBudgetBook({ db, now }: StoreContext, spend: SpendTracker): BudgetBook {
  const version = db.prepare<[], number>('PRAGMA data_version').pluck();
  const heldRows = db.prepare<[], Held & { session_id: string | null }>(
    'SELECT session_id, coalesce(sum(micros), 0) AS micros, coalesce(sum(tokens), 0) AS tokens, count(*) AS calls FROM budget_reservations GROUP BY session_id',
  );
  const insertRow = db.prepare<[string, string | null, number | null, number, number]>(
    'INSERT INTO budget_reservations (boot_id, session_id, micros, tokens, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const deleteRow = db.prepare<[number]>('DELETE FROM budget_reservations WHERE id = ?');
  const spentAfter = db.prepare<[number], number>('SELECT coalesce(sum(cost_micros), 0) FROM usage WHERE id > ?').pluck();

  const holds = new Map<number, Hold>();
  let nextId = HOLD_BASE;
  let queue: Op[] = [];
  let view: View | null = null;
  let scheduled: NodeJS.Immediate | null = null;

  const writeQueue = db.transaction((ops: Op[]) => {
    for (const op of ops) {
      if (op.kind === 'hold') {
        if (op.hold.ended) continue;
        const h = op.hold;
        h.rowId = Number(insertRow.run(h.bootId, h.sessionId, h.micros, h.tokens, h.createdAt).lastInsertRowid);
      } else if (op.kind === 'usage') {
        op.usage.write(op.rowId);
      } else {
        deleteRow.run(op.rowId);
      }
    }
  });

  function flush(): void {
    if (scheduled) {
      clearImmediate(scheduled);
      scheduled = null;
    }
    if (queue.length === 0) return;
    const ops = queue;
    queue = [];
    try {
      if (db.inTransaction) writeQueue(ops);
      else writeQueue.immediate(ops);
    } catch (err) {
      // Nothing of the batch was written: it stays queued for the next try.
      queue = ops.concat(queue);
      throw err;
    }
  }

  const enqueue = (op: Op): void => {
    queue.push(op);
    scheduled ??= setImmediate(() => {
      scheduled = null;
      try {
        flush();
      } catch {
        // The queue is tried again by the next store call or durable(), which report the error.
      }
    });
  };

  const add = (into: Held, h: { micros: number | null; tokens: number }, sign: 1 | -1) => {
    into.micros += sign * (h.micros ?? 0);
    into.tokens += sign * h.tokens;
    into.calls += sign;
  };

  function load(): View {
    if (queue.length > 0) flush();
    const read = db.transaction((): View => {
      const { user, plan } = spend.allCaps();
      const eff = effectiveOf(user, plan);
      const p = spend.periodsAt(now(), user?.time_zone ?? DEFAULT_BUDGET_ZONE);
      const held: Held = { micros: 0, tokens: 0, calls: 0 };
      const heldBySession = new Map<string, Held>();
      for (const row of heldRows.all()) {
        held.micros += row.micros;
        held.tokens += row.tokens;
        held.calls += row.calls;
        if (row.session_id !== null) heldBySession.set(row.session_id, { micros: row.micros, tokens: row.tokens, calls: row.calls });
      }
      return {
        version: version.get() ?? 0,
        user,
        plan,
        eff,
        capped:
          eff.dailyMicros !== null || eff.monthlyMicros !== null || eff.sessionMicros !== null || eff.dailyTokens !== null || (plan?.credit_micros ?? null) !== null,
        p,
        day: { ...spend.peek(spend.dayKey(p), p) },
        month: { ...spend.peek(spend.monthKey(p), p) },
        sessions: new Map(),
        credit:
          plan?.credit_micros === null || plan?.credit_micros === undefined
            ? null
            : { limit: plan.credit_micros, spent: { micros: spentAfter.get(plan.credit_after ?? 0) ?? 0, tokens: 0, unpriced: 0 } },
        held,
        heldBySession,
      };
    });
    view = read();
    return view;
  }

  /**
   * The view, loaded again when it may be stale: another connection committed
   * (asked at most every FRESH_MS of a burst — `PRAGMA data_version` costs a
   * read transaction; `strict` always asks) or the local day turned.
   */
  let askedAt = -Infinity;
  function current(strict = false): View {
    const v = view;
    if (v === null) return load();
    const t = performance.now();
    if (strict || t - askedAt >= FRESH_MS) {
      askedAt = t;
      if (version.get() !== v.version) return load();
    }
    if (spend.dayAt(now(), v.p.timeZone) !== v.p.day) return load();
    return v;
  }

  function sessionSpend(v: View, sessionId: string): Spend {
    let s = v.sessions.get(sessionId);
    if (s === undefined) {
      // The rows must hold everything this book counted before they are summed.
      if (queue.length > 0) flush();
      s = { ...spend.peek(spend.sessionKey(sessionId), v.p, sessionId) };
      v.sessions.set(sessionId, s);
    }
    return s;
  }

  /** The first cap the call would pass, or null when it fits under all of them. */
  function verdict(v: View, input: BudgetReservationInput): BudgetExceededDetails | null {
    const { eff, p } = v;
    const money = (cap: BudgetCapName, limit: number | null, source: CapSource | null, period: string, used: () => Spend, held: () => Held) => {
      if (limit === null) return null;
      // A money cap cannot weigh an unpriced call, except a cap of zero: nothing may be spent.
      if (input.micros === null && limit > 0) return null;
      const spent = used().micros;
      const reserved = held().micros;
      if (input.micros !== null && spent + reserved + input.micros <= limit) return null;
      const out: BudgetExceededDetails = {
        cap,
        source: source ?? 'user',
        period,
        limitMicros: limit,
        spentMicros: spent,
        reservedMicros: reserved,
        remainingMicros: Math.max(0, limit - spent - reserved),
      };
      if (input.micros !== null) out.neededMicros = input.micros;
      return out;
    };
    const all = () => v.held;
    const sessionId = input.sessionId;
    const credit = v.credit;
    const refusal =
      money('daily', eff.dailyMicros, eff.dailySource, p.dayKey, () => v.day, all) ??
      money('monthly', eff.monthlyMicros, eff.monthlySource, p.month.key, () => v.month, all) ??
      (credit === null ? null : money('credit', credit.limit, 'plan', 'credit', () => credit.spent, all)) ??
      (sessionId === null
        ? null
        : money('session', eff.sessionMicros, 'user', sessionId, () => sessionSpend(v, sessionId), () => v.heldBySession.get(sessionId) ?? { micros: 0, tokens: 0, calls: 0 }));
    if (refusal) return refusal;
    if (eff.dailyTokens !== null) {
      const spent = v.day.tokens;
      const reserved = v.held.tokens;
      if (spent + reserved + input.tokens > eff.dailyTokens) {
        return {
          cap: 'dailyTokens',
          source: 'user',
          period: p.dayKey,
          limitTokens: eff.dailyTokens,
          spentTokens: spent,
          reservedTokens: reserved,
          remainingTokens: Math.max(0, eff.dailyTokens - spent - reserved),
          neededTokens: input.tokens,
        };
      }
    }
    return null;
  }

  const heldOf = (v: View, sessionId: string | null): Held | undefined => {
    if (sessionId === null) return undefined;
    let h = v.heldBySession.get(sessionId);
    if (h === undefined) v.heldBySession.set(sessionId, (h = { micros: 0, tokens: 0, calls: 0 }));
    return h;
  };

  /** Ends `hold` in the view (settled or released). */
  function end(hold: Hold): void {
    hold.ended = true;
    const v = view;
    if (v === null) return;
    add(v.held, hold, -1);
    const s = heldOf(v, hold.sessionId);
    if (s) add(s, hold, -1);
  }

  /** Adds a recorded call to the view's totals (or drops the view when the call is of another period). */
  function count(usage: Omit<UsageWrite, 'write'>): void {
    const v = view;
    if (v === null) return;
    if (spend.dayAt(usage.at, v.p.timeZone) !== v.p.day) {
      view = null;
      return;
    }
    for (const total of [v.day, v.month, v.sessions.get(usage.sessionId), v.credit?.spent]) {
      if (!total) continue;
      total.micros += usage.spend.micros;
      total.tokens += usage.spend.tokens;
      total.unpriced += usage.spend.unpriced;
    }
  }

  /** The soft lines the view's totals are past (as spend.add reports them for a synchronous insert). */
  function softLines(v: View): SoftLine[] {
    const percent = v.user?.soft_percent ?? null;
    if (percent === null) return [];
    const lines: SoftLine[] = [];
    const check = (cap: 'daily' | 'monthly', limit: number | null, source: CapSource | null, total: Spend, period: string) => {
      if (limit !== null && limit > 0 && total.micros * 100 >= limit * percent) {
        lines.push({ cap, period, percent, spentMicros: total.micros, limitMicros: limit, source: source ?? 'user', timeZone: v.p.timeZone });
      }
    };
    check('daily', v.eff.dailyMicros, v.eff.dailySource, v.day, v.p.dayKey);
    check('monthly', v.eff.monthlyMicros, v.eff.monthlySource, v.month, v.p.month.key);
    return lines;
  }

  /** This book's hold for `id`, ended; its row id when written (undefined: none). */
  function take(id: number | undefined): { rowId: number | undefined; known: boolean } {
    if (id === undefined) return { rowId: undefined, known: true };
    const hold = holds.get(id);
    if (hold === undefined) return { rowId: id < HOLD_BASE ? id : undefined, known: false };
    holds.delete(id);
    end(hold);
    return { rowId: hold.rowId ?? undefined, known: true };
  }

  return {
    hold(input, strict = false) {
      const v = current(strict);
      if (v.capped) {
        const refused = verdict(v, input);
        if (refused) {
          if (refused.source === 'plan' && v.plan?.reason) refused.reason = v.plan.reason;
          throw budgetRefusal(refused);
        }
      }
      const hold: Hold = { sessionId: input.sessionId, micros: input.micros, tokens: input.tokens, bootId: input.bootId, createdAt: now(), rowId: null, ended: false };
      const id = nextId++;
      holds.set(id, hold);
      add(v.held, hold, 1);
      const s = heldOf(v, hold.sessionId);
      if (s) add(s, hold, 1);
      enqueue({ kind: 'hold', hold });
      return id;
    },

    settle(usage, reservationId) {
      const { rowId, known } = take(reservationId);
      enqueue({ kind: 'usage', usage, rowId });
      if (!known) view = null;
      count(usage);
      // A call of another day, or a foreign reservation: the totals are read again (after the write).
      return softLines(view ?? load());
    },

    settleNow(usage, reservationId) {
      const { rowId, known } = take(reservationId);
      if (!known) view = null;
      count(usage);
      return rowId;
    },

    release(id) {
      const hold = holds.get(id);
      if (hold === undefined) return null;
      holds.delete(id);
      end(hold);
      if (hold.rowId !== null) enqueue({ kind: 'release', rowId: hold.rowId });
      return true;
    },

    flush,
    pending: () => queue.length > 0,

    durable() {
      // At once, not at the end of the loop turn: the provider request that waits for it leaves
      // before the loop turns, so the events a turn's start sent are flushed while the provider
      // answers instead of before the request. Holds taken together (one tick) still share it.
      if (queue.length === 0) return Promise.resolve();
      try {
        flush();
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(err);
      }
    },

    invalidate() {
      view = null;
    },

    reset() {
      for (const hold of holds.values()) hold.ended = true;
      holds.clear();
      view = null;
    },

    stop() {
      try {
        flush();
      } finally {
        if (scheduled) clearImmediate(scheduled);
        scheduled = null;
      }
    },
  };
}
