/**
 * Ledger queries over the usage rows: totals grouped by local day (in the
 * time zone the client names), model, session, channel and tool, in integer
 * micro-dollars, with unpriced calls counted apart. One GROUP BY in SQLite,
 * over the quarter-hour rollup (see migration V5) or the rows themselves;
 * days are exact across DST through the CASE built in zone-sql.ts.
 * And the manager's cursor over the raw rows (`usagePage`).
 */
import {
  DAY_MS,
  EMPTY_TOTALS,
  addTotals,
  UsageLedgerInput,
  ZONE_SLACK_MS,
  dayKey,
  parseDayKey,
  type LedgerGroup,
  type LedgerRow,
  type UsageLedger,
  type UsageLedgerQuery,
  type UsageRow,
  type UsageTotals,
  GatewayCostAdminInputs,
} from '@autoclaw/shared';
import type { ZoneClock } from '@autoclaw/shared';
import type { StoreContext } from './context';
import type { Store } from './types';
import { SUMMARY_COLUMNS, type SummaryRow } from './usage';
import { localDaySql } from './zone-sql';
import { zodInput } from './zod-input';

export type LedgerQueries = Pick<Store, 'usageLedger' | 'usagePage'>;

const TOTAL_COLUMNS = /* sql */ `${SUMMARY_COLUMNS},
  coalesce(sum(CASE WHEN cost_micros IS NULL THEN input_tokens + output_tokens + cache_read_tokens + cache_write_tokens END), 0) AS unpriced_tokens`;

interface TotalsRow extends SummaryRow {
  unpriced_tokens: number;
}

interface GroupedRow extends TotalsRow {
  g_day?: number;
  g_provider?: string;
  g_model?: string;
  g_session?: string | null;
  g_channel?: string;
  g_tool?: string | null;
}

interface UsageDbRow {
  id: number;
  created_at: number;
  session_id: string | null;
  provider: string;
  model: string;
  channel: string;
  tool: string | null;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_micros: number | null;
}

function totalsOf(row: TotalsRow): UsageTotals {
  return {
    calls: row.calls,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    cacheReadTokens: row.cache_read_tokens,
    cacheWriteTokens: row.cache_write_tokens,
    costMicros: row.cost_micros,
    unpricedCalls: row.unpriced,
    unpricedTokens: row.unpriced_tokens,
  };
}

/** The rollup's bucket: a quarter hour. */
export const QUARTER_MS = 900_000;

/** How each grouping reads from the rows (`usage`) or from the quarter-hour rollup. */
const GROUP_SQL: Record<Exclude<LedgerGroup, 'day'>, { select: string; rollup: string; by: string }> = {
  model: { select: 'provider AS g_provider, model AS g_model', rollup: 'provider AS g_provider, model AS g_model', by: 'provider, model' },
  session: { select: 'session_id AS g_session', rollup: "nullif(session_id, '') AS g_session", by: 'g_session' },
  channel: { select: 'channel AS g_channel', rollup: 'channel AS g_channel', by: 'channel' },
  tool: { select: 'tool AS g_tool', rollup: "nullif(tool, '') AS g_tool", by: 'g_tool' },
};

const ROLLUP_TOTALS = /* sql */ `
  coalesce(sum(calls), 0) AS calls,
  coalesce(sum(input_tokens), 0) AS input_tokens,
  coalesce(sum(output_tokens), 0) AS output_tokens,
  coalesce(sum(cache_read_tokens), 0) AS cache_read_tokens,
  coalesce(sum(cache_write_tokens), 0) AS cache_write_tokens,
  coalesce(sum(cost_micros), 0) AS cost_micros,
  coalesce(sum(unpriced_calls), 0) AS unpriced,
  coalesce(sum(unpriced_tokens), 0) AS unpriced_tokens`;

/** Whether every quarter hour of [from, to) lies within one local day of the zone (offsets and changes on quarter hours). */
export function quarterAligned(clock: ZoneClock, from: number, to: number): boolean {
  return clock.segments(from, to).every((s, i, all) => s.offsetMs % QUARTER_MS === 0 && (i === all.length - 1 || s.end % QUARTER_MS === 0));
}

export interface LedgerOptions {
  /** Read the quarter-hour rollup when the zone allows it (default true; false reads every row, for tests). */
  rollup?: boolean;
}

export function ledgerQueries({ db }: StoreContext, clockOf: (timeZone: string) => ZoneClock, opts: LedgerOptions = {}): LedgerQueries {
  const bounds = db.prepare<[], { lo: number | null; hi: number | null }>('SELECT min(created_at) AS lo, max(created_at) AS hi FROM usage');
  const titles = db.prepare<[string], { id: string; title: string; channel: string }>(
    'SELECT id, title, channel FROM sessions WHERE id IN (SELECT value FROM json_each(?))',
  );
  const page = db.prepare<[number, number], UsageDbRow>(
    `SELECT id, created_at, session_id, provider, model, channel, tool, input_tokens, output_tokens,
       cache_read_tokens, cache_write_tokens, cost_micros
     FROM usage WHERE id > ? ORDER BY id LIMIT ?`,
  );

  // A consistent snapshot: rows and session titles from the same moment.
  const ledger = db.transaction((query: UsageLedgerQuery): UsageLedger => {
    const clock = clockOf(query.timeZone);
    const fromDay = query.from === undefined ? null : (parseDayKey(query.from) as number);
    const toDay = query.to === undefined ? null : (parseDayKey(query.to) as number);
    const empty: UsageLedger = {
      timeZone: clock.timeZone,
      from: query.from ?? null,
      to: query.to ?? null,
      by: query.by,
      rows: [],
      total: EMPTY_TOTALS,
      sessions: {},
    };
    const span = bounds.get();
    if (!span || span.lo === null || span.hi === null) return query.by.length === 0 ? { ...empty, rows: [{ ...EMPTY_TOTALS }] } : empty;
    // The index range: rows of the asked local days lie within a day of their UTC days.
    const lo = Math.max(span.lo, fromDay === null ? span.lo : fromDay * DAY_MS - ZONE_SLACK_MS);
    const hi = Math.min(span.hi + 1, toDay === null ? span.hi + 1 : (toDay + 1) * DAY_MS + ZONE_SLACK_MS);
    if (hi <= lo) return query.by.length === 0 ? { ...empty, rows: [{ ...EMPTY_TOTALS }] } : empty;

    // Quarter-hour sums when they cannot straddle a local midnight; the rows themselves otherwise.
    const rollup = (opts.rollup ?? true) && quarterAligned(clock, Math.floor(lo / QUARTER_MS) * QUARTER_MS, hi);
    const day = rollup ? localDaySql(clock, Math.floor(lo / QUARTER_MS) * QUARTER_MS, hi, `(bucket * ${QUARTER_MS})`) : localDaySql(clock, lo, hi);
    const where = rollup ? ['bucket >= ?', 'bucket <= ?'] : ['created_at >= ?', 'created_at < ?'];
    const params: number[] = rollup ? [Math.floor(lo / QUARTER_MS), Math.floor((hi - 1) / QUARTER_MS)] : [lo, hi];
    if (fromDay !== null) {
      where.push(`${day} >= ?`);
      params.push(fromDay);
    }
    if (toDay !== null) {
      where.push(`${day} <= ?`);
      params.push(toDay);
    }
    const selects: string[] = [];
    const groups: string[] = [];
    for (const group of query.by) {
      if (group === 'day') {
        selects.push(`${day} AS g_day`);
        groups.push('g_day');
      } else {
        selects.push(rollup ? GROUP_SQL[group].rollup : GROUP_SQL[group].select);
        groups.push(GROUP_SQL[group].by);
      }
    }
    const sql =
      `SELECT ${[...selects, rollup ? ROLLUP_TOTALS : TOTAL_COLUMNS].join(', ')} FROM ${rollup ? 'usage_rollup' : 'usage'} WHERE ${where.join(' AND ')}` +
      (groups.length > 0 ? ` GROUP BY ${groups.join(', ')} ORDER BY ${groups.join(', ')}` : '');
    const grouped = db.prepare<number[], GroupedRow>(sql).all(...params);

    let total = EMPTY_TOTALS;
    const sessionIds = new Set<string>();
    const rows: LedgerRow[] = grouped.map((g) => {
      const totals = totalsOf(g);
      total = addTotals(total, totals);
      const row: LedgerRow = { ...totals };
      if (g.g_day !== undefined) row.day = dayKey(g.g_day);
      if (g.g_provider !== undefined) row.model = `${g.g_provider}:${g.g_model ?? ''}`;
      if (g.g_session !== undefined) {
        row.sessionId = g.g_session;
        if (g.g_session !== null) sessionIds.add(g.g_session);
      }
      if (g.g_channel !== undefined) row.channel = g.g_channel;
      if (g.g_tool !== undefined) row.tool = g.g_tool;
      return row;
    });
    const sessions: UsageLedger['sessions'] = {};
    if (sessionIds.size > 0) {
      for (const s of titles.all(JSON.stringify([...sessionIds]))) sessions[s.id] = { title: s.title, channel: s.channel };
    }
    return { ...empty, rows, total, sessions };
  });

  return {
    usageLedger(query) {
      return ledger(zodInput(UsageLedgerInput, query, 'ledger query'));
    },
    usagePage(after, limit) {
      const input = zodInput(GatewayCostAdminInputs.usagePage, { after, limit }, 'usage page');
      const rows: UsageRow[] = page.all(input.after, input.limit).map((r) => ({
        id: r.id,
        createdAt: r.created_at,
        sessionId: r.session_id,
        provider: r.provider,
        model: r.model,
        channel: r.channel,
        tool: r.tool,
        inputTokens: r.input_tokens,
        outputTokens: r.output_tokens,
        cacheReadTokens: r.cache_read_tokens,
        cacheWriteTokens: r.cache_write_tokens,
        costMicros: r.cost_micros,
      }));
      return { rows, nextCursor: rows.at(-1)?.id ?? input.after };
    },
  };
}
