import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DAY_MS, parseDayKey, zoneClock, type LedgerRow, type UsageLedger, type UsageTotals } from '@autoclaw/shared';
import { openStore } from './sqlite-store';
import { addTotals, EMPTY_TOTALS } from '@autoclaw/shared';
import { quarterAligned } from './ledger';
import { codeOf, manualClock, tempStore, type TempStore } from './test-helpers';
import type { Store } from './types';

const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'America/Santiago', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Pacific/Kiritimati'];
const MODELS = [
  ['anthropic', 'claude-sonnet-4-6'],
  ['openai', 'gpt-4o-mini'],
  ['openai-compatible', 'llama3.1'],
] as const;
const CHANNELS = ['webchat', 'telegram'];
const TOOLS = [null, 'read_file', 'read_file,write_file'];

/** The oracle: the wall-clock date Intl shows for `t` in `tz`. */
const intlDate = (tz: string, t: number) =>
  new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(t));

interface Call {
  t: number;
  model: number;
  session: number;
  channel: number;
  tool: number;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  cost: number | null;
}

const FIRST = Date.UTC(2026, 1, 15);
const LAST = Date.UTC(2026, 10, 15);

/** Moments anywhere from mid-February to mid-November 2026 (both DST changes of every zone above), half of them within two hours of a local midnight of `timeZone`. */
function momentArb(timeZone: string) {
  const clock = zoneClock(timeZone);
  const nearMidnight = fc
    .tuple(fc.integer({ min: FIRST / DAY_MS, max: LAST / DAY_MS }), fc.integer({ min: -7_200_000, max: 7_200_000 }))
    .map(([day, delta]) => day * DAY_MS - clock.offsetAt(day * DAY_MS) + delta);
  return fc.oneof(fc.integer({ min: FIRST, max: LAST }), nearMidnight);
}

const callFields = {
  model: fc.integer({ min: 0, max: 2 }),
  session: fc.integer({ min: 0, max: 3 }),
  channel: fc.integer({ min: 0, max: 1 }),
  tool: fc.integer({ min: 0, max: 2 }),
  input: fc.integer({ min: 0, max: 200_000 }),
  output: fc.integer({ min: 0, max: 8_000 }),
  cacheRead: fc.integer({ min: 0, max: 50_000 }),
  cacheWrite: fc.integer({ min: 0, max: 50_000 }),
  cost: fc.option(fc.integer({ min: 0, max: 5_000_000 }), { nil: null }),
};

/** A zone and calls at moments that matter in it. */
function zoneAndCalls(maxLength: number) {
  return fc
    .constantFrom(...ZONES)
    .chain((timeZone) => fc.tuple(fc.constant(timeZone), fc.array(fc.record({ t: momentArb(timeZone), ...callFields }), { maxLength })));
}

function totalsOfCall(c: Call): UsageTotals {
  const tokens = c.input + c.output + c.cacheRead + c.cacheWrite;
  return {
    calls: 1,
    inputTokens: c.input,
    outputTokens: c.output,
    cacheReadTokens: c.cacheRead,
    cacheWriteTokens: c.cacheWrite,
    costMicros: c.cost ?? 0,
    unpricedCalls: c.cost === null ? 1 : 0,
    unpricedTokens: c.cost === null ? tokens : 0,
  };
}

/** A store in memory with `calls` recorded at their times; session 3 is deleted afterwards (its rows keep a null session). */
function storeWith(calls: readonly Call[], ledgerRollup = true): { store: Store; sessionIds: Array<string | null> } {
  const clock = manualClock();
  const store = openStore({ path: ':memory:', now: clock.now, ledgerRollup });
  const sessions = [0, 1, 2, 3].map((i) => store.createSession({ name: `s${i}`, channel: CHANNELS[i % 2] }));
  for (const c of calls) {
    clock.set(c.t);
    const [provider, model] = MODELS[c.model]!;
    store.recordUsage({
      sessionId: sessions[c.session]!.id,
      messageId: null,
      provider,
      model,
      usage: { inputTokens: c.input, outputTokens: c.output, cacheReadTokens: c.cacheRead, cacheWriteTokens: c.cacheWrite },
      costMicros: c.cost,
      channel: CHANNELS[c.channel],
      tool: TOOLS[c.tool],
    });
  }
  store.deleteSession(sessions[3]!.id);
  return { store, sessionIds: [sessions[0]!.id, sessions[1]!.id, sessions[2]!.id, null] };
}

function regroup(rows: readonly LedgerRow[], key: (r: LedgerRow) => string): Map<string, UsageTotals> {
  const out = new Map<string, UsageTotals>();
  for (const r of rows) {
    const { day: _d, model: _m, sessionId: _s, channel: _c, tool: _t, ...totals } = r;
    out.set(key(r), addTotals(out.get(key(r)) ?? EMPTY_TOTALS, totals));
  }
  return out;
}

function asMap(ledger: UsageLedger, key: (r: LedgerRow) => string): Map<string, UsageTotals> {
  return regroup(ledger.rows, key);
}

describe('usage ledger (property tests)', () => {
  it('groups by local day exactly as the wall clock showed it, and every re-aggregation sums to the same integers', () => {
    fc.assert(
      fc.property(zoneAndCalls(120), fc.boolean(), ([timeZone, calls], rollup) => {
        const { store, sessionIds } = storeWith(calls, rollup);
        try {
          const expectedTotal = calls.map(totalsOfCall).reduce(addTotals, EMPTY_TOTALS);
          const total = store.usageLedger({ timeZone, by: [] });
          expect(total.rows).toEqual([expectedTotal]);
          expect(total.total).toEqual(expectedTotal);

          // By day, against the Intl oracle.
          const expectedByDay = new Map<string, UsageTotals>();
          for (const c of calls) {
            const day = intlDate(timeZone, c.t);
            expectedByDay.set(day, addTotals(expectedByDay.get(day) ?? EMPTY_TOTALS, totalsOfCall(c)));
          }
          const byDay = store.usageLedger({ timeZone, by: ['day'] });
          expect(asMap(byDay, (r) => r.day!)).toEqual(expectedByDay);
          expect(byDay.rows.map((r) => r.day)).toEqual([...expectedByDay.keys()].sort());
          expect(byDay.total).toEqual(expectedTotal);

          // Day × model, re-aggregated, gives by-day and by-model; by model against the calls.
          const dayModel = store.usageLedger({ timeZone, by: ['day', 'model'] });
          expect(regroup(dayModel.rows, (r) => r.day!)).toEqual(asMap(byDay, (r) => r.day!));
          const byModel = store.usageLedger({ timeZone, by: ['model'] });
          expect(regroup(dayModel.rows, (r) => r.model!)).toEqual(asMap(byModel, (r) => r.model!));
          const expectedByModel = new Map<string, UsageTotals>();
          for (const c of calls) {
            const key = MODELS[c.model]!.join(':');
            expectedByModel.set(key, addTotals(expectedByModel.get(key) ?? EMPTY_TOTALS, totalsOfCall(c)));
          }
          expect(asMap(byModel, (r) => r.model!)).toEqual(expectedByModel);

          // Session × channel × tool: each split against the calls (a deleted session's rows stay, under null).
          const three = store.usageLedger({ timeZone, by: ['session', 'channel', 'tool'] });
          expect(three.total).toEqual(expectedTotal);
          const expectedBySession = new Map<string, UsageTotals>();
          const expectedByTool = new Map<string, UsageTotals>();
          for (const c of calls) {
            const s = String(sessionIds[c.session]);
            expectedBySession.set(s, addTotals(expectedBySession.get(s) ?? EMPTY_TOTALS, totalsOfCall(c)));
            const t = String(TOOLS[c.tool]);
            expectedByTool.set(t, addTotals(expectedByTool.get(t) ?? EMPTY_TOTALS, totalsOfCall(c)));
          }
          expect(regroup(three.rows, (r) => String(r.sessionId))).toEqual(expectedBySession);
          expect(regroup(three.rows, (r) => String(r.tool))).toEqual(expectedByTool);
          expect(asMap(store.usageLedger({ timeZone, by: ['channel'] }), (r) => r.channel!)).toEqual(regroup(three.rows, (r) => r.channel!));
          for (const id of sessionIds) if (id !== null && three.rows.some((r) => r.sessionId === id)) expect(three.sessions[id]).toBeDefined();
        } finally {
          store.close();
        }
      }),
      { numRuns: 100 },
    );
  });

  it('keeps exactly the local days from..to', () => {
    fc.assert(
      fc.property(
        zoneAndCalls(80),
        fc.integer({ min: FIRST, max: LAST }),
        fc.integer({ min: 0, max: 60 }),
        fc.boolean(),
        ([timeZone, calls], fromAt, days, rollup) => {
          const { store } = storeWith(calls, rollup);
          try {
            const from = intlDate('UTC', fromAt);
            const to = intlDate('UTC', fromAt + days * 86_400_000);
            const expected = calls
              .filter((c) => intlDate(timeZone, c.t) >= from && intlDate(timeZone, c.t) <= to)
              .map(totalsOfCall)
              .reduce(addTotals, EMPTY_TOTALS);
            expect(store.usageLedger({ timeZone, from, to, by: [] }).total).toEqual(expected);
            const byDay = store.usageLedger({ timeZone, from, to, by: ['day'] });
            expect(byDay.total).toEqual(expected);
            for (const row of byDay.rows) expect(row.day! >= from && row.day! <= to).toBe(true);
          } finally {
            store.close();
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('usage ledger', () => {
  let t: TempStore;
  beforeEach(() => {
    t = tempStore();
  });
  afterEach(() => t.cleanup());

  const record = (at: string, costMicros: number | null, sessionId = '') => {
    t.clock.set(Date.parse(at));
    t.store.recordUsage({
      sessionId,
      messageId: null,
      provider: 'anthropic',
      model: 'claude-sonnet-4-6',
      usage: { inputTokens: 100, outputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0 },
      costMicros,
    });
  };

  it('counts a 25-hour day and a 23-hour day whole (America/New_York)', () => {
    // 2026-11-01 is 25 hours long in New York: 04:00Z to 05:00Z the next day.
    record('2026-11-01T03:59:59.999Z', 1); // Oct 31, 23:59:59 EDT
    record('2026-11-01T04:00:00.000Z', 10); // Nov 1, 00:00 EDT
    record('2026-11-01T05:30:00.000Z', 100); // Nov 1, 01:30 EDT
    record('2026-11-01T06:30:00.000Z', 1_000); // Nov 1, 01:30 EST (the repeated hour)
    record('2026-11-02T04:59:59.999Z', 10_000); // Nov 1, 23:59:59 EST
    record('2026-11-02T05:00:00.000Z', 100_000); // Nov 2, 00:00 EST
    // 2026-03-08 is 23 hours long: 05:00Z to 04:00Z the next day.
    record('2026-03-08T04:59:59.000Z', 1_000_000); // Mar 7
    record('2026-03-08T05:00:00.000Z', 2_000_000); // Mar 8 00:00 EST
    record('2026-03-09T03:59:59.000Z', 3_000_000); // Mar 8 23:59:59 EDT
    record('2026-03-09T04:00:00.000Z', 4_000_000); // Mar 9
    const byDay = t.store.usageLedger({ timeZone: 'America/New_York', by: ['day'] });
    expect(byDay.rows.map((r) => [r.day, r.costMicros, r.calls])).toEqual([
      ['2026-03-07', 1_000_000, 1],
      ['2026-03-08', 5_000_000, 2],
      ['2026-03-09', 4_000_000, 1],
      ['2026-10-31', 1, 1],
      ['2026-11-01', 11_110, 4],
      ['2026-11-02', 100_000, 1],
    ]);
    // In UTC the same rows fall on other days.
    expect(t.store.usageLedger({ timeZone: 'UTC', from: '2026-11-01', to: '2026-11-01', by: [] }).total.costMicros).toBe(1_111);
  });

  it('reads the rows themselves where quarter hours could straddle midnight (Monrovia, 1971: UTC-0:44:30)', () => {
    const monrovia = zoneClock('Africa/Monrovia');
    const [from, to] = [Date.UTC(1971, 5, 1), Date.UTC(1971, 5, 3)];
    expect(quarterAligned(monrovia, from, to)).toBe(false);
    expect(quarterAligned(zoneClock('Asia/Kathmandu'), Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1))).toBe(true);
    // 00:44:29Z is 23:59:59 the day before in Monrovia; 00:44:30Z is midnight.
    record('1971-06-02T00:44:29.000Z', 1);
    record('1971-06-02T00:44:30.000Z', 10);
    expect(t.store.usageLedger({ timeZone: 'Africa/Monrovia', by: ['day'] }).rows.map((r) => [r.day, r.costMicros])).toEqual([
      ['1971-06-01', 1],
      ['1971-06-02', 10],
    ]);
  });

  it('counts unpriced calls apart, never as $0', () => {
    record('2026-06-01T12:00:00Z', null);
    record('2026-06-01T13:00:00Z', 42);
    const [row] = t.store.usageLedger({ timeZone: 'UTC', by: ['day'] }).rows;
    expect(row).toMatchObject({ day: '2026-06-01', calls: 2, costMicros: 42, unpricedCalls: 1, unpricedTokens: 110 });
  });

  it('answers an empty ledger with no rows (or one zero total)', () => {
    expect(t.store.usageLedger({ timeZone: 'UTC', by: ['day'] }).rows).toEqual([]);
    expect(t.store.usageLedger({ timeZone: 'UTC', by: [] }).rows).toEqual([EMPTY_TOTALS]);
  });

  it('refuses bad queries with BAD_REQUEST and changes nothing', () => {
    record('2026-06-01T12:00:00Z', 5);
    const before = t.store.dump();
    const bad: unknown[] = [
      { timeZone: 'Mars/Olympus', by: ['day'] },
      { timeZone: '', by: ['day'] },
      { timeZone: 'UTC', by: ['week'] },
      { timeZone: 'UTC', by: ['day', 'day'] },
      { timeZone: 'UTC', by: 'day' },
      { timeZone: 'UTC', from: '2026-02-30', by: [] },
      { timeZone: 'UTC', from: '2026-06-02', to: '2026-06-01', by: [] },
      { timeZone: 'UTC', to: 'yesterday', by: [] },
      { timeZone: 'UTC', by: [], extra: 1 },
      { by: [] },
      null,
    ];
    for (const query of bad) expect(codeOf(() => t.store.usageLedger(query as never))).toBe('BAD_REQUEST');
    expect(t.store.dump()).toBe(before);
    expect(parseDayKey('2026-06-01')).not.toBeNull();
  });
});

describe('usage page (the manager cursor)', () => {
  let t: TempStore;
  beforeEach(() => {
    t = tempStore();
  });
  afterEach(() => t.cleanup());

  it('pages rows after a cursor, oldest first, the same on every re-read', () => {
    const session = t.store.createSession({ name: 'a' });
    for (let i = 0; i < 7; i++) {
      t.clock.advance(1_000);
      t.store.recordUsage({
        sessionId: session.id,
        messageId: null,
        provider: 'openai',
        model: 'gpt-4o-mini',
        usage: { inputTokens: i, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
        costMicros: i === 3 ? null : i * 10,
        tool: i % 2 === 0 ? null : 'read_file',
      });
    }
    const first = t.store.usagePage(0, 3);
    expect(first.rows.map((r) => r.inputTokens)).toEqual([0, 1, 2]);
    expect(t.store.usagePage(0, 3)).toEqual(first);
    const second = t.store.usagePage(first.nextCursor, 3);
    expect(second.rows.map((r) => r.inputTokens)).toEqual([3, 4, 5]);
    expect(second.rows[0]).toMatchObject({ costMicros: null, tool: 'read_file', sessionId: session.id, channel: 'webchat', provider: 'openai' });
    const third = t.store.usagePage(second.nextCursor, 3);
    expect(third.rows.map((r) => r.inputTokens)).toEqual([6]);
    const done = t.store.usagePage(third.nextCursor, 3);
    expect(done).toEqual({ rows: [], nextCursor: third.nextCursor });
    const ids = [...first.rows, ...second.rows, ...third.rows].map((r) => r.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(7);

    const before = t.store.dump();
    for (const [after, limit] of [[-1, 3], [0, 0], [0, 1_001], [1.5, 3], [0, Number.NaN], [Number.POSITIVE_INFINITY, 3], ['0', 3]] as const) {
      expect(codeOf(() => t.store.usagePage(after as number, limit))).toBe('BAD_REQUEST');
    }
    expect(t.store.dump()).toBe(before);
  });
});
