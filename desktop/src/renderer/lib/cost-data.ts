/**
 * What the Costs page shows, computed from one ledger answer (by local day
 * and one split): the totals of today, this month and the whole range, and
 * the chart's series, one value per day of the range (zero-filled). Pure
 * and integer-exact: money stays in micro-dollars until it is drawn.
 */
import { DAY_MS, EMPTY_TOTALS, addTotals, dayKey, formatMicros, parseDayKey, type LedgerRow, type UsageLedger, type UsageTotals } from '@autoclaw/shared';

export type CostSplit = 'model' | 'session' | 'channel';

export const SPLITS: ReadonlyArray<{ value: CostSplit; label: string }> = [
  { value: 'model', label: 'Model' },
  { value: 'session', label: 'Conversation' },
  { value: 'channel', label: 'Channel' },
];

/** Days of the chart: today and the 89 before it. */
export const RANGE_DAYS = 90;

export const ZERO = EMPTY_TOTALS;
export const add = addTotals;

/** "1 call", "3 calls", "12,345 tokens". */
export function count(n: number, word: string): string {
  return `${new Intl.NumberFormat('en-US').format(n)} ${word}${n === 1 ? '' : 's'}`;
}

export function tokensOf(t: UsageTotals): number {
  return t.inputTokens + t.outputTokens + t.cacheReadTokens + t.cacheWriteTokens;
}

/** "$0.12", "$0.12 + 2 unpriced", or "2 unpriced calls" (never "$0.00" for calls whose cost is unknown). */
export function costText(t: UsageTotals): string {
  const unpriced = t.unpricedCalls === 1 ? '1 unpriced call' : `${t.unpricedCalls} unpriced calls`;
  if (t.unpricedCalls > 0 && t.unpricedCalls === t.calls) return unpriced;
  return t.unpricedCalls > 0 ? `${formatMicros(t.costMicros)} + ${unpriced}` : formatMicros(t.costMicros);
}

/** The first and last day of the chart for `today` ('YYYY-MM-DD'). */
export function rangeOf(today: string): { from: string; to: string } {
  const day = parseDayKey(today);
  if (day === null) throw new Error(`not a day: ${today}`);
  return { from: dayKey(day - (RANGE_DAYS - 1)), to: today };
}

export interface PeriodTotals {
  today: UsageTotals;
  month: UsageTotals;
  range: UsageTotals;
}

export function periodTotals(rows: readonly LedgerRow[], today: string): PeriodTotals {
  const month = today.slice(0, 7);
  let out: PeriodTotals = { today: ZERO, month: ZERO, range: ZERO };
  for (const row of rows) {
    const day = row.day ?? '';
    out = {
      today: day === today ? add(out.today, row) : out.today,
      month: day.startsWith(month) ? add(out.month, row) : out.month,
      range: add(out.range, row),
    };
  }
  return out;
}

export interface ChartSeries {
  key: string;
  label: string;
  /** One value per day of the range. */
  totals: UsageTotals[];
  sum: UsageTotals;
}

export interface ChartData {
  split: CostSplit;
  /** 'YYYY-MM-DD' of each day of the range. */
  days: string[];
  /** Seconds since the epoch of each day's UTC midnight (uPlot's x; labels are drawn in UTC so they read as the local dates). */
  x: number[];
  /** Largest first; past `maxSeries`, the rest are summed into "Other". */
  series: ChartSeries[];
  /** All splits together, per day. */
  daily: UsageTotals[];
}

function splitKey(row: LedgerRow, split: CostSplit): string {
  if (split === 'model') return row.model ?? '';
  if (split === 'session') return row.sessionId ?? '';
  return row.channel ?? '';
}

function splitLabel(key: string, split: CostSplit, sessions: UsageLedger['sessions']): string {
  if (split === 'model') return key.slice(key.indexOf(':') + 1) || key;
  if (split === 'session') return key === '' ? 'Deleted conversations' : (sessions[key]?.title ?? key);
  return key;
}

const byWeight = (a: ChartSeries, b: ChartSeries) =>
  b.sum.costMicros - a.sum.costMicros || tokensOf(b.sum) - tokensOf(a.sum) || a.label.localeCompare(b.label);

export function chartData(ledger: UsageLedger, split: CostSplit, from: string, to: string, maxSeries = 6): ChartData {
  const first = parseDayKey(from);
  const last = parseDayKey(to);
  if (first === null || last === null || last < first) throw new Error(`bad range ${from}..${to}`);
  const count = last - first + 1;
  const days = Array.from({ length: count }, (_, i) => dayKey(first + i));
  const x = days.map((_, i) => ((first + i) * DAY_MS) / 1000);
  const index = new Map(days.map((d, i) => [d, i]));
  const bySplit = new Map<string, ChartSeries>();
  const daily: UsageTotals[] = days.map(() => ZERO);
  for (const row of ledger.rows) {
    const at = index.get(row.day ?? '');
    if (at === undefined) continue;
    const key = splitKey(row, split);
    let series = bySplit.get(key);
    if (!series) {
      series = { key, label: splitLabel(key, split, ledger.sessions), totals: days.map(() => ZERO), sum: ZERO };
      bySplit.set(key, series);
    }
    series.totals[at] = add(series.totals[at] as UsageTotals, row);
    series.sum = add(series.sum, row);
    daily[at] = add(daily[at] as UsageTotals, row);
  }
  const sorted = [...bySplit.values()].sort(byWeight);
  if (sorted.length <= maxSeries) return { split, days, x, series: sorted, daily };
  const kept = sorted.slice(0, maxSeries - 1);
  const other: ChartSeries = { key: '\u0000other', label: 'Other', totals: days.map(() => ZERO), sum: ZERO };
  for (const s of sorted.slice(maxSeries - 1)) {
    other.totals = other.totals.map((t, i) => add(t, s.totals[i] as UsageTotals));
    other.sum = add(other.sum, s.sum);
  }
  return { split, days, x, series: [...kept, other], daily };
}

/** "Sat, Dec 6" for a 'YYYY-MM-DD' (the date itself, whatever zone the page runs in). */
export function dayLabel(day: string): string {
  const ms = (parseDayKey(day) ?? 0) * DAY_MS;
  return new Date(ms).toLocaleDateString('en-US', { timeZone: 'UTC', weekday: 'short', month: 'short', day: 'numeric' });
}
