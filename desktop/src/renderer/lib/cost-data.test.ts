import { describe, expect, it } from 'vitest';
import { EMPTY_TOTALS, addTotals, type LedgerRow, type UsageLedger } from '@autoclaw/shared';
import { chartData, costText, count, dayLabel, periodTotals, rangeOf } from './cost-data';
import { validateBudget, valuesOf } from './budget-form';

const row = (day: string, model: string, costMicros: number, extra: Partial<LedgerRow> = {}): LedgerRow => ({
  ...EMPTY_TOTALS,
  day,
  model,
  calls: 1,
  inputTokens: 100,
  outputTokens: 10,
  costMicros,
  ...extra,
});

function ledger(rows: LedgerRow[]): UsageLedger {
  return { timeZone: 'UTC', from: null, to: null, by: ['day', 'model'], rows, total: rows.reduce<typeof EMPTY_TOTALS>(addTotals, EMPTY_TOTALS), sessions: { s1: { title: 'Trip plans', channel: 'webchat' } } };
}

describe('cost data', () => {
  it('fills every day of the range, splits by model, and keeps the sums exact', () => {
    const l = ledger([row('2026-12-01', 'anthropic:claude-sonnet-4-6', 300), row('2026-12-03', 'anthropic:claude-sonnet-4-6', 5), row('2026-12-03', 'openai:gpt-4o-mini', 7)]);
    const data = chartData(l, 'model', '2026-12-01', '2026-12-03');
    expect(data.days).toEqual(['2026-12-01', '2026-12-02', '2026-12-03']);
    expect(data.x).toEqual([Date.UTC(2026, 11, 1) / 1000, Date.UTC(2026, 11, 2) / 1000, Date.UTC(2026, 11, 3) / 1000]);
    expect(data.series.map((s) => [s.label, s.totals.map((t) => t.costMicros)])).toEqual([
      ['claude-sonnet-4-6', [300, 0, 5]],
      ['gpt-4o-mini', [0, 0, 7]],
    ]);
    expect(data.daily.map((t) => t.costMicros)).toEqual([300, 0, 12]);
  });

  it('folds the smallest splits into "Other" past the colour count; names sessions by title', () => {
    const rows = Array.from({ length: 8 }, (_, i) => row('2026-12-01', `p:m${i}`, (i + 1) * 10));
    const data = chartData(ledger(rows), 'model', '2026-12-01', '2026-12-01', 6);
    expect(data.series.map((s) => [s.label, s.sum.costMicros])).toEqual([
      ['m7', 80],
      ['m6', 70],
      ['m5', 60],
      ['m4', 50],
      ['m3', 40],
      ['Other', 30 + 20 + 10],
    ]);
    const sessions = chartData(ledger([row('2026-12-01', 'x', 1, { sessionId: 's1' }), row('2026-12-01', 'x', 2, { sessionId: null })]), 'session', '2026-12-01', '2026-12-01');
    expect(sessions.series.map((s) => s.label).sort()).toEqual(['Deleted conversations', 'Trip plans']);
  });

  it('adds up today, the month and the range; unpriced calls never read as $0', () => {
    const rows = [row('2026-11-30', 'a', 100), row('2026-12-05', 'a', 20), row('2026-12-06', 'a', 3, { unpricedCalls: 1, calls: 2 })];
    const totals = periodTotals(rows, '2026-12-06');
    expect([totals.today.costMicros, totals.month.costMicros, totals.range.costMicros]).toEqual([3, 23, 123]);
    expect(costText(totals.today)).toBe('$0.0000 + 1 unpriced call');
    expect(costText({ ...EMPTY_TOTALS, calls: 2, unpricedCalls: 2 })).toBe('2 unpriced calls');
    expect(costText({ ...EMPTY_TOTALS, calls: 1, costMicros: 123_456 })).toBe('$0.12');
    expect(rangeOf('2026-12-06')).toEqual({ from: '2026-09-08', to: '2026-12-06' });
    expect(dayLabel('2026-12-06')).toBe('Sun, Dec 6');
    expect([count(1, 'call'), count(12_345, 'token')]).toEqual(['1 call', '12,345 tokens']);
  });
});

describe('budget form', () => {
  const noPlan = { dailyMicros: null, monthlyMicros: null, reason: null, updatedAt: null, creditMicros: null, creditAfter: null };
  const values = { daily: '', monthly: '', session: '', tokens: '', soft: '' };

  it('turns the fields into a patch (empty: no cap) and back', () => {
    expect(validateBudget({ daily: '2.5', monthly: '$40', session: '0.000001', tokens: '1,000,000', soft: '80%' }, noPlan)).toEqual({
      patch: { dailyMicros: 2_500_000, monthlyMicros: 40_000_000, sessionMicros: 1, dailyTokens: 1_000_000, softPercent: 80 },
    });
    expect(validateBudget(values, noPlan)).toEqual({ patch: { dailyMicros: null, monthlyMicros: null, sessionMicros: null, dailyTokens: null, softPercent: null } });
    const caps = { dailyMicros: 2_500_000, monthlyMicros: null, sessionMicros: 1, dailyTokens: 5, softPercent: 80, timeZone: 'UTC' };
    expect(valuesOf({ caps } as never)).toEqual({ daily: '2.5', monthly: '', session: '0.000001', tokens: '5', soft: '80' });
  });

  it('refuses what the gateway would refuse, and caps above the plan', () => {
    for (const [field, bad] of [
      ['daily', '-1'],
      ['daily', 'abc'],
      ['daily', 'NaN'],
      ['daily', '1e3'],
      ['monthly', '100000.01'],
      ['session', '0.0000001'],
      ['tokens', '-5'],
      ['tokens', '1.5'],
      ['tokens', '99999999999'],
      ['soft', '0'],
      ['soft', '101'],
      ['soft', '5.5'],
    ] as const) {
      const out = validateBudget({ ...values, [field]: bad }, noPlan);
      expect([field, bad, 'errors' in out && field in out.errors]).toEqual([field, bad, true]);
    }
    const plan = { dailyMicros: 1_000_000, monthlyMicros: null, reason: 'Starter plan', updatedAt: 1, creditMicros: null, creditAfter: null };
    expect(validateBudget({ ...values, daily: '1.01' }, plan)).toEqual({ errors: { daily: 'Your plan allows at most $1.00.' } });
    expect('patch' in validateBudget({ ...values, daily: '1' }, plan)).toBe(true);
  });
});
