/**
 * What budgets read: the caps rows, the budget's periods (local day and month
 * in its time zone) and the running spend per day, month and session. The
 * running totals (`budget_spend`) are a cache of sums over `usage`: a total
 * is computed from the rows on first use and from then on every usage insert
 * adds to it in the same transaction, so reading it is one primary-key lookup.
 */
import { ZONE_SLACK_MS, DAY_MS, dayKey, monthOfDay, type CapSource, type ZoneClock } from '@autoclaw/shared';
import type { SoftLine } from './types';
import type { StoreContext } from './context';
import { QUARTER_MS, quarterAligned } from './ledger';
import { localDaySql } from './zone-sql';

export const DEFAULT_BUDGET_ZONE = 'UTC';

export interface CapsRow {
  scope: 'user' | 'plan';
  daily_micros: number | null;
  monthly_micros: number | null;
  session_micros: number | null;
  daily_tokens: number | null;
  soft_percent: number | null;
  time_zone: string | null;
  reason: string | null;
  updated_at: number;
  credit_micros: number | null;
  credit_after: number | null;
}

export interface Spend {
  micros: number;
  tokens: number;
  unpriced: number;
}

export interface Periods {
  timeZone: string;
  day: number;
  dayKey: string;
  month: { key: string; first: number; last: number };
}

export interface Effective {
  dailyMicros: number | null;
  dailySource: CapSource | null;
  monthlyMicros: number | null;
  monthlySource: CapSource | null;
  sessionMicros: number | null;
  dailyTokens: number | null;
}

/** The lower of two caps (null: none) and whose it is. */
function lower(user: number | null | undefined, plan: number | null | undefined): [number | null, CapSource | null] {
  const u = user ?? null;
  const p = plan ?? null;
  if (p !== null && (u === null || p <= u)) return [p, 'plan'];
  return u === null ? [null, null] : [u, 'user'];
}

/** What is enforced: the lower of the user's and the plan's caps. */
export function effectiveOf(user: CapsRow | undefined, plan: CapsRow | undefined): Effective {
  const [dailyMicros, dailySource] = lower(user?.daily_micros, plan?.daily_micros);
  const [monthlyMicros, monthlySource] = lower(user?.monthly_micros, plan?.monthly_micros);
  return {
    dailyMicros,
    dailySource,
    monthlyMicros,
    monthlySource,
    sessionMicros: user?.session_micros ?? null,
    dailyTokens: user?.daily_tokens ?? null,
  };
}

const ZERO: Spend = { micros: 0, tokens: 0, unpriced: 0 };
const SPEND_COLUMNS = /* sql */ `
  coalesce(sum(cost_micros), 0) AS micros,
  coalesce(sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens), 0) AS tokens,
  coalesce(sum(cost_micros IS NULL), 0) AS unpriced`;

const ROLLUP_SPEND_COLUMNS = /* sql */ `
  coalesce(sum(cost_micros), 0) AS micros,
  coalesce(sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens), 0) AS tokens,
  coalesce(sum(unpriced_calls), 0) AS unpriced`;

export interface SpendTracker {
  caps(scope: 'user' | 'plan'): CapsRow | undefined;
  /** Both rows in one read. */
  allCaps(): { user: CapsRow | undefined; plan: CapsRow | undefined };
  periodsAt(t: number, timeZone?: string): Periods;
  /** The local day number of `t` in `timeZone` (what Periods.day holds), without the keys. */
  dayAt(t: number, timeZone: string): number;
  dayKey(p: Periods): string;
  monthKey(p: Periods): string;
  sessionKey(sessionId: string): string;
  /** The total under `key`, computed and stored when missing (call inside a write transaction). */
  ensure(key: string, p: Periods, sessionId?: string): Spend;
  /** The total under `key` without writing anything. */
  peek(key: string, p: Periods, sessionId?: string): Spend;
  /**
   * Adds one call to the totals that exist for its periods (inside the usage
   * insert's transaction) and returns the soft lines those totals are past.
   */
  add(t: number, sessionId: string | null, spend: Spend): SoftLine[];
}

export function createSpendTracker({ db }: StoreContext, clockOf: (timeZone: string) => ZoneClock): SpendTracker {
  const capsOf = db.prepare<[string], CapsRow>('SELECT * FROM budget_caps WHERE scope = ?');
  const bothCaps = db.prepare<[], CapsRow>('SELECT * FROM budget_caps');
  const allCaps = () => {
    const rows = bothCaps.all();
    return { user: rows.find((r) => r.scope === 'user'), plan: rows.find((r) => r.scope === 'plan') };
  };
  const get = db.prepare<[string], Spend>('SELECT micros, tokens, unpriced FROM budget_spend WHERE key = ?');
  const put = db.prepare<[string, number, number, number]>('INSERT OR REPLACE INTO budget_spend (key, micros, tokens, unpriced) VALUES (?, ?, ?, ?)');
  // Day and month totals of an older period or another zone are dropped when a new one is made.
  const dropKind = db.prepare<[string, string]>('DELETE FROM budget_spend WHERE key >= ? AND key < ?');
  const bump = db.prepare<[number, number, number, string, string, string]>(
    'UPDATE budget_spend SET micros = micros + ?, tokens = tokens + ?, unpriced = unpriced + ? WHERE key IN (?, ?, ?)',
  );
  const sessionSum = db.prepare<[string], Spend>(`SELECT ${SPEND_COLUMNS} FROM usage WHERE session_id = ?`);

  const periodsAt = (t: number, timeZone?: string): Periods => {
    const zone = timeZone ?? capsOf.get('user')?.time_zone ?? DEFAULT_BUDGET_ZONE;
    const day = clockOf(zone).localDay(t);
    return { timeZone: zone, day, dayKey: dayKey(day), month: monthOfDay(day) };
  };
  const keys = {
    dayKey: (p: Periods) => `d|${p.timeZone}|${p.dayKey}`,
    monthKey: (p: Periods) => `m|${p.timeZone}|${p.month.key}`,
    sessionKey: (sessionId: string) => `s|${sessionId}`,
  };

  /** Sum over the local days first..last of the zone: from the quarter-hour rollup when exact, else the rows. */
  const daysSum = (p: Periods, first: number, last: number): Spend => {
    const from = first * DAY_MS - ZONE_SLACK_MS;
    const to = (last + 1) * DAY_MS + ZONE_SLACK_MS;
    const clock = clockOf(p.timeZone);
    if (quarterAligned(clock, from, to)) {
      const day = localDaySql(clock, from, to, `(bucket * ${QUARTER_MS})`);
      return db
        .prepare<[number, number, number, number], Spend>(
          `SELECT ${ROLLUP_SPEND_COLUMNS} FROM usage_rollup WHERE bucket >= ? AND bucket < ? AND ${day} BETWEEN ? AND ?`,
        )
        .get(from / QUARTER_MS, to / QUARTER_MS, first, last) ?? ZERO;
    }
    const day = localDaySql(clock, from, to);
    return db
      .prepare<[number, number, number, number], Spend>(
        `SELECT ${SPEND_COLUMNS} FROM usage WHERE created_at >= ? AND created_at < ? AND ${day} BETWEEN ? AND ?`,
      )
      .get(from, to, first, last) ?? ZERO;
  };

  const compute = (key: string, p: Periods, sessionId?: string): Spend => {
    if (key.startsWith('d|')) return daysSum(p, p.day, p.day);
    if (key.startsWith('m|')) return daysSum(p, p.month.first, p.month.last);
    return sessionId === undefined ? ZERO : (sessionSum.get(sessionId) ?? ZERO);
  };

  return {
    caps: (scope) => capsOf.get(scope),
    allCaps,
    periodsAt,
    dayAt: (t, timeZone) => clockOf(timeZone).localDay(t),
    ...keys,
    ensure(key, p, sessionId) {
      const hit = get.get(key);
      if (hit) return hit;
      const spend = compute(key, p, sessionId);
      const kind = key.slice(0, 2);
      if (kind !== 's|') dropKind.run(kind, `${kind.slice(0, 1)}}`);
      put.run(key, spend.micros, spend.tokens, spend.unpriced);
      return spend;
    },
    peek(key, p, sessionId) {
      return get.get(key) ?? compute(key, p, sessionId);
    },
    add(t, sessionId, spend) {
      const { user, plan } = allCaps();
      const p = periodsAt(t, user?.time_zone ?? DEFAULT_BUDGET_ZONE);
      const dayK = keys.dayKey(p);
      const monthK = keys.monthKey(p);
      bump.run(spend.micros, spend.tokens, spend.unpriced, dayK, monthK, sessionId === null ? '' : keys.sessionKey(sessionId));
      const percent = user?.soft_percent ?? null;
      if (percent === null) return [];
      const eff = effectiveOf(user, plan);
      const lines: SoftLine[] = [];
      const check = (cap: 'daily' | 'monthly', limit: number | null, source: CapSource | null, key: string, period: string) => {
        // Only totals in use (a cap reserved against them) are read: no sums over rows here.
        const total = limit === null || limit === 0 ? undefined : get.get(key);
        if (total && total.micros * 100 >= limit! * percent) {
          lines.push({ cap, period, percent, spentMicros: total.micros, limitMicros: limit!, source: source ?? 'user', timeZone: p.timeZone });
        }
      };
      check('daily', eff.dailyMicros, eff.dailySource, dayK, p.dayKey);
      check('monthly', eff.monthlyMicros, eff.monthlySource, monthK, p.month.key);
      return lines;
    },
  };
}
