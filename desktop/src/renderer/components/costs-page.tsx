/**
 * The Costs page: today, this month and the last 90 days; spend per day split
 * by model, conversation or channel (chart and table, in the user's time
 * zone); and the budget. The chart's module (uPlot) loads only when shown.
 */
import { lazy, Suspense, useDeferredValue, useEffect, useMemo, useRef, useState } from 'react';
import { dayKey, zoneClock, type UsageLedger, type UsageTotals } from '@autoclaw/shared';
import { describeError } from '../lib/client-error';
import { formatTokens } from '../lib/format';
import { chartData, costText, count, dayLabel, periodTotals, rangeOf, SPLITS, tokensOf, type ChartData, type CostSplit } from '../lib/cost-data';
import { useLedger } from '../hooks/use-costs';
import { useServices, useUi } from '../state/services';
import { BudgetSection } from './budget-section';
import '../styles/costs.css';

const CostChart = lazy(() => import('./cost-chart'));

function Figure({ title, totals }: { title: string; totals: UsageTotals }) {
  return (
    <div className="cost-figure">
      <h2>{title}</h2>
      <p className="cost-figure-amount">{costText(totals)}</p>
      <p className="muted">
        {count(tokensOf(totals), 'token')} · {count(totals.calls, 'call')}
      </p>
    </div>
  );
}

function CostTable({ data }: { data: ChartData }) {
  const { split } = data;
  const rows = data.days.map((day, i) => ({ day, i })).filter(({ i }) => (data.daily[i]?.calls ?? 0) > 0).reverse();
  const splitName = SPLITS.find((s) => s.value === split)?.label.toLowerCase() ?? split;
  return (
    <div className="cost-table-wrap">
      <table className="cost-table">
        <caption className="visually-hidden">Spend per day by {splitName}</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            <th scope="col">Cost</th>
            <th scope="col">Tokens</th>
            <th scope="col">Calls</th>
            <th scope="col">By {splitName}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ day, i }) => {
            const total = data.daily[i] as UsageTotals;
            return (
              <tr key={day} data-day={day}>
                <th scope="row">{dayLabel(day)}</th>
                <td className="num">{costText(total)}</td>
                <td className="num">{formatTokens(tokensOf(total))}</td>
                <td className="num">{formatTokens(total.calls)}</td>
                <td>
                  {data.series
                    .filter((s) => (s.totals[i]?.calls ?? 0) > 0)
                    .map((s) => `${s.label} ${costText(s.totals[i] as UsageTotals)}`)
                    .join(' · ')}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function Spend({ ledger, split, from, to }: { ledger: UsageLedger; split: CostSplit; from: string; to: string }) {
  const data = useMemo(() => {
    // From here to the chart's first draw is what `costs-chart-render` measures (bench/costs-chart.bench.ts).
    performance.mark('costs-chart-start');
    return chartData(ledger, split, from, to);
  }, [ledger, split, from, to]);
  // The chart first; the table (a row per day) follows in a render of its own.
  const tableData = useDeferredValue<ChartData | null>(data, null);
  if (ledger.rows.length === 0) {
    return <p className="empty">No model calls in the last 90 days. Costs show up here after your first message.</p>;
  }
  return (
    <>
      <Suspense fallback={<p className="muted cost-chart-loading">Loading the chart…</p>}>
        <CostChart data={data} />
      </Suspense>
      {data.series.some((s) => s.sum.unpricedCalls > 0) && (
        <p className="hint">Unpriced calls (models missing from the price table) are counted apart: their cost is unknown, not zero.</p>
      )}
      {tableData && <CostTable data={tableData} />}
    </>
  );
}

/** `onTopUp`: opens the Billing page (the manager UI has one; plain WebChat does not). */
export default function CostsPage({ onTopUp }: { onTopUp?: (() => void) | undefined } = {}) {
  const { now, timeZone } = useServices();
  const costsFocus = useUi((s) => s.costsFocus);
  const clearCostsFocus = useUi((s) => s.clearCostsFocus);
  const [split, setSplit] = useState<CostSplit>('model');
  const zone = timeZone();
  // Looked at again every minute: a page left open past midnight moves on to the new day.
  const [minute, setMinute] = useState(0);
  useEffect(() => {
    const timer = window.setInterval(() => setMinute((m) => m + 1), 60_000);
    return () => window.clearInterval(timer);
  }, []);
  const clock = useMemo(() => zoneClock(zone), [zone]);
  const today = useMemo(() => dayKey(clock.localDay(now())), [clock, now, minute]);
  const { from, to } = rangeOf(today);
  const ledger = useLedger({ timeZone: zone, from, to, by: ['day', split] });
  const totals = useMemo(() => (ledger.data ? periodTotals(ledger.data.rows, today) : null), [ledger.data, today]);
  const budgetField = useRef<HTMLInputElement>(null);

  // Opened from a refused answer: straight to the budget.
  useEffect(() => {
    if (costsFocus !== 'budget') return;
    const timer = window.setInterval(() => {
      const field = budgetField.current;
      if (!field) return;
      field.scrollIntoView({ block: 'center' });
      field.focus();
      clearCostsFocus();
    }, 50);
    return () => window.clearInterval(timer);
  }, [costsFocus, clearCostsFocus]);

  return (
    <div className="settings costs" aria-label="Costs">
      <h1>Costs</h1>
      {ledger.isError && (
        <div className="notice error" role="alert">
          <p>Could not load costs: {describeError(ledger.error).message}</p>
          <button type="button" onClick={() => void ledger.refetch()}>
            Try again
          </button>
        </div>
      )}
      <section className="cost-figures" aria-label="Totals">
        {totals ? (
          <>
            <Figure title="Today" totals={totals.today} />
            <Figure title="This month" totals={totals.month} />
            <Figure title="Last 90 days" totals={totals.range} />
          </>
        ) : (
          !ledger.isError && <p className="muted">Loading costs…</p>
        )}
      </section>
      <section className="settings-section" aria-labelledby="spend-title">
        <div className="spend-header">
          <h2 id="spend-title">Spend per day</h2>
          <fieldset className="split-picker">
            <legend>Split by</legend>
            {SPLITS.map((s) => (
              <label key={s.value}>
                <input type="radio" name="cost-split" value={s.value} checked={split === s.value} onChange={() => setSplit(s.value)} />
                {s.label}
              </label>
            ))}
          </fieldset>
        </div>
        {ledger.isPending && <p className="muted">Loading…</p>}
        {ledger.isSuccess && <Spend ledger={ledger.data} split={split} from={from} to={to} />}
        <p className="hint">Days in {zone}. Prices from the built-in price table.</p>
      </section>
      <BudgetSection firstField={budgetField} onTopUp={onTopUp} />
    </div>
  );
}
