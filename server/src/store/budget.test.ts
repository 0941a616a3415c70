import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AppError, type BudgetExceededDetails } from '@autoclaw/shared';
import { openStore } from './sqlite-store';
import { codeOf, manualClock, tempStore, type TempStore } from './test-helpers';
import type { Store } from './types';

let t: TempStore;
beforeEach(() => {
  t = tempStore();
  t.clock.set(Date.parse('2026-06-10T12:00:00Z'));
});
afterEach(() => t.cleanup());

const BOOT = 'boot1';

function refusal(fn: () => unknown): AppError & { details: BudgetExceededDetails } {
  try {
    fn();
  } catch (err) {
    if (AppError.is(err, 'BUDGET_EXCEEDED')) return err as AppError & { details: BudgetExceededDetails };
    throw err;
  }
  throw new Error('expected BUDGET_EXCEEDED');
}

function settle(store: Store, id: number, costMicros: number | null, sessionId = '', tokens = 100) {
  store.recordUsage({
    sessionId,
    messageId: null,
    provider: 'anthropic',
    model: 'claude-sonnet-4-6',
    usage: { inputTokens: tokens, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
    costMicros,
    reservationId: id,
  });
}

describe('budget reservations', () => {
  it('holds worst cases against the daily cap and settles them on actual usage', () => {
    t.store.setBudgetCaps({ dailyMicros: 1_000 });
    const a = t.store.reserveBudget({ bootId: BOOT, sessionId: null, micros: 400, tokens: 10 });
    const b = t.store.reserveBudget({ bootId: BOOT, sessionId: null, micros: 400, tokens: 10 });
    expect(t.store.budgetStatus().reserved).toEqual({ micros: 800, tokens: 20, calls: 2 });

    const refused = refusal(() => t.store.reserveBudget({ bootId: BOOT, sessionId: null, micros: 400, tokens: 10 }));
    expect(refused.details).toEqual({
      cap: 'daily',
      source: 'user',
      period: '2026-06-10',
      limitMicros: 1_000,
      spentMicros: 0,
      reservedMicros: 800,
      remainingMicros: 200,
      neededMicros: 400,
    });
    expect(refused.message).toContain('Daily budget reached');
    expect(refused.message).toContain('$0.0002 left');
    expect(refused.message).toContain('Raise the daily budget in Costs → Budget');

    // Actual usage is less than the worst case: room comes back.
    settle(t.store, a, 150);
    expect(t.store.budgetStatus()).toMatchObject({ reserved: { micros: 400, calls: 1 }, day: { spentMicros: 150, spentTokens: 100 } });
    const c = t.store.reserveBudget({ bootId: BOOT, sessionId: null, micros: 400, tokens: 10 });
    expect(t.store.releaseBudget(b)).toBe(true);
    expect(t.store.releaseBudget(b)).toBe(false);
    settle(t.store, c, 400);
    expect(t.store.budgetStatus()).toMatchObject({ reserved: { micros: 0, calls: 0 }, day: { spentMicros: 550 } });
    expect(t.store.usageLedger({ timeZone: 'UTC', by: [] }).total.costMicros).toBe(550);
  });

  it('starts a new day and a new month in the budget time zone', () => {
    t.store.setBudgetCaps({ dailyMicros: 1_000, monthlyMicros: 1_500, timeZone: 'America/New_York' });
    t.clock.set(Date.parse('2026-06-30T20:00:00Z')); // June 30, 16:00 in New York
    settle(t.store, t.store.reserveBudget({ bootId: BOOT, sessionId: null, micros: 900, tokens: 1 }), 900);
    expect(refusal(() => t.store.reserveBudget({ bootId: BOOT, sessionId: null, micros: 200, tokens: 1 })).details.cap).toBe('daily');
    t.clock.set(Date.parse('2026-07-01T03:59:00Z')); // still June 30 in New York
    expect(refusal(() => t.store.reserveBudget({ bootId: BOOT, sessionId: null, micros: 200, tokens: 1 })).details).toMatchObject({ cap: 'daily', period: '2026-06-30' });
    t.clock.set(Date.parse('2026-07-01T04:00:00Z')); // July 1: a new day and a new month
    const status = t.store.budgetStatus();
    expect(status.day).toMatchObject({ period: '2026-07-01', spentMicros: 0 });
    expect(status.month).toMatchObject({ period: '2026-07', spentMicros: 0 });
    settle(t.store, t.store.reserveBudget({ bootId: BOOT, sessionId: null, micros: 900, tokens: 1 }), 900);
    t.clock.set(Date.parse('2026-07-02T12:00:00Z'));
    settle(t.store, t.store.reserveBudget({ bootId: BOOT, sessionId: null, micros: 500, tokens: 1 }), 500);
    expect(refusal(() => t.store.reserveBudget({ bootId: BOOT, sessionId: null, micros: 200, tokens: 1 })).details).toMatchObject({
      cap: 'monthly',
      period: '2026-07',
      spentMicros: 1_400,
      remainingMicros: 100,
    });
    // A new zone re-reads the sums from the rows: in UTC the 20:00Z call of June 30 is June's too.
    t.store.setBudgetCaps({ timeZone: 'UTC' });
    expect(t.store.budgetStatus().month).toMatchObject({ period: '2026-07', spentMicros: 1_400 });
  });

  it('sums a day from the rows themselves where quarter hours could straddle midnight (Monrovia, 1971: UTC-0:44:30)', () => {
    t.store.setBudgetCaps({ dailyMicros: 1_000, timeZone: 'Africa/Monrovia' });
    t.clock.set(Date.parse('1971-06-02T00:44:29Z')); // June 1, 23:59:59 in Monrovia
    settle(t.store, t.store.reserveBudget({ bootId: BOOT, sessionId: null, micros: 100, tokens: 1 }), 100);
    t.clock.set(Date.parse('1971-06-02T00:44:30Z')); // June 2, midnight
    settle(t.store, t.store.reserveBudget({ bootId: BOOT, sessionId: null, micros: 10, tokens: 1 }), 10);
    // A reservation in UTC drops the Monrovia totals; back in Monrovia they are read again from the rows.
    t.store.setBudgetCaps({ timeZone: 'UTC' });
    expect(t.store.budgetStatus().day).toMatchObject({ period: '1971-06-02', spentMicros: 110 });
    t.store.releaseBudget(t.store.reserveBudget({ bootId: BOOT, sessionId: null, micros: 1, tokens: 1 }));
    t.store.setBudgetCaps({ timeZone: 'Africa/Monrovia' });
    expect(t.store.budgetStatus().day).toMatchObject({ period: '1971-06-02', spentMicros: 10 });
    expect(refusal(() => t.store.reserveBudget({ bootId: BOOT, sessionId: null, micros: 991, tokens: 1 })).details.spentMicros).toBe(10);
  });

  it('caps each conversation on its own, and counts tokens of every model, priced or not', () => {
    const s1 = t.store.createSession({ name: 'one' });
    const s2 = t.store.createSession({ name: 'two' });
    t.store.setBudgetCaps({ sessionMicros: 500, dailyTokens: 1_000 });
    settle(t.store, t.store.reserveBudget({ bootId: BOOT, sessionId: s1.id, micros: 400, tokens: 100 }), 400, s1.id, 100);
    expect(refusal(() => t.store.reserveBudget({ bootId: BOOT, sessionId: s1.id, micros: 200, tokens: 10 })).details).toMatchObject({
      cap: 'session',
      period: s1.id,
      spentMicros: 400,
    });
    t.store.releaseBudget(t.store.reserveBudget({ bootId: BOOT, sessionId: s2.id, micros: 400, tokens: 10 }));
    // An unpriced call passes every money cap but not the token cap.
    const u = t.store.reserveBudget({ bootId: BOOT, sessionId: s1.id, micros: null, tokens: 800 });
    expect(refusal(() => t.store.reserveBudget({ bootId: BOOT, sessionId: s2.id, micros: null, tokens: 200 })).details).toEqual({
      cap: 'dailyTokens',
      source: 'user',
      period: '2026-06-10',
      limitTokens: 1_000,
      spentTokens: 100,
      reservedTokens: 800,
      remainingTokens: 100,
      neededTokens: 200,
    });
    settle(t.store, u, null, s1.id, 700);
    expect(t.store.budgetStatus().day).toMatchObject({ spentTokens: 800, unpricedCalls: 1, spentMicros: 400 });
  });

  it('enforces the lower of the plan and the user cap; the user cannot go above the plan; a zero plan stops every call', () => {
    t.store.setBudgetCaps({ dailyMicros: 5_000_000 });
    const plan = t.store.setPlanCaps({ dailyMicros: 1_000_000, monthlyMicros: null, reason: 'Your plan includes $1 a day.' });
    expect(plan).toMatchObject({ dailyMicros: 1_000_000, monthlyMicros: null, reason: 'Your plan includes $1 a day.' });
    const status = t.store.budgetStatus();
    expect(status.effective).toMatchObject({ dailyMicros: 1_000_000, dailySource: 'plan' });
    expect(status.caps.dailyMicros).toBe(5_000_000);
    const refused = refusal(() => t.store.reserveBudget({ bootId: BOOT, sessionId: null, micros: 1_000_001, tokens: 1 }));
    expect(refused.details).toMatchObject({ cap: 'daily', source: 'plan', limitMicros: 1_000_000, reason: 'Your plan includes $1 a day.' });
    expect(refused.message).toContain("Your plan's daily limit reached");
    expect(refused.message).toContain('Your plan includes $1 a day.');

    const before = t.store.dump();
    expect(codeOf(() => t.store.setBudgetCaps({ dailyMicros: 1_000_001 }))).toBe('FORBIDDEN');
    expect(t.store.dump()).toBe(before);
    expect(t.store.setBudgetCaps({ dailyMicros: 200_000 }).effective).toMatchObject({ dailyMicros: 200_000, dailySource: 'user' });
    expect(t.store.setBudgetCaps({ dailyMicros: null }).effective).toMatchObject({ dailyMicros: 1_000_000, dailySource: 'plan' });

    // Credits ran out: nothing may be spent, not even on an unpriced model.
    t.store.setPlanCaps({ dailyMicros: null, monthlyMicros: 0, reason: 'Your credits ran out.' });
    const zero = refusal(() => t.store.reserveBudget({ bootId: BOOT, sessionId: null, micros: null, tokens: 10 }));
    expect(zero.details).toMatchObject({ cap: 'monthly', source: 'plan', limitMicros: 0, remainingMicros: 0 });
    expect(zero.message).toContain('Your credits ran out.');
    expect(zero.message).toContain('top up credits or change the plan');
    // A positive money cap leaves unpriced calls alone.
    t.store.setPlanCaps({ dailyMicros: null, monthlyMicros: 1, reason: null });
    t.store.releaseBudget(t.store.reserveBudget({ bootId: BOOT, sessionId: null, micros: null, tokens: 10 }));
  });

  it('audits every change of a cap, and the plan, with who made it', () => {
    t.store.setBudgetCaps({ dailyMicros: 2_500_000, softPercent: 80 }, { actor: 'laptop' });
    t.store.setBudgetCaps({ dailyMicros: 2_500_000, monthlyMicros: null }); // nothing changed: nothing audited
    t.store.setBudgetCaps({ dailyMicros: null, timeZone: 'Europe/Berlin' });
    t.store.setPlanCaps({ dailyMicros: null, monthlyMicros: 0, reason: 'Credits ran out.' }, { actor: 'manager' });
    expect(t.store.listAudit({ limit: 10 }).map((e) => [e.deviceId, e.action, e.target, e.oldValue, e.newValue, e.detail])).toEqual([
      ['manager', 'budget.plan', 'plan', 'daily none, monthly none', 'daily none, monthly $0.00', 'Credits ran out.'],
      [null, 'budget.set', 'budget.timeZone', 'UTC', 'Europe/Berlin', null],
      [null, 'budget.set', 'budget.dailyMicros', '$2.50', 'none', null],
      ['laptop', 'budget.set', 'budget.softPercent', 'none', '80%', null],
      ['laptop', 'budget.set', 'budget.dailyMicros', 'none', '$2.50', null],
    ]);
  });

  it('reports the soft lines the spend is past after each recorded call', () => {
    t.store.setBudgetCaps({ dailyMicros: 1_000, monthlyMicros: 10_000, softPercent: 50 });
    const first = t.store.reserveBudget({ bootId: BOOT, sessionId: null, micros: 400, tokens: 1 });
    expect(t.store.recordUsage({ sessionId: '', messageId: null, provider: 'anthropic', model: 'm', usage: { inputTokens: 1, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 }, costMicros: 400, reservationId: first })).toEqual([]);
    const second = t.store.reserveBudget({ bootId: BOOT, sessionId: null, micros: 400, tokens: 1 });
    expect(t.store.recordUsage({ sessionId: '', messageId: null, provider: 'anthropic', model: 'm', usage: { inputTokens: 1, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 }, costMicros: 100, reservationId: second })).toEqual([
      { cap: 'daily', period: '2026-06-10', percent: 50, spentMicros: 500, limitMicros: 1_000, source: 'user', timeZone: 'UTC' },
    ]);
  });

  it('counts reservations of every connection to the file (another process is just another connection)', () => {
    const other = t.reopen();
    t.store.setBudgetCaps({ dailyMicros: 1_000 });
    other.reserveBudget({ bootId: 'boot2', sessionId: null, micros: 600, tokens: 1 });
    expect(refusal(() => t.store.reserveBudget({ bootId: BOOT, sessionId: null, micros: 600, tokens: 1 })).details.reservedMicros).toBe(600);
  });

  it('recover() releases what a killed process held', () => {
    t.store.setBudgetCaps({ dailyMicros: 1_000 });
    t.store.reserveBudget({ bootId: BOOT, sessionId: null, micros: 900, tokens: 1 });
    const restarted = t.reopen();
    expect(restarted.recover().releasedReservations).toBe(1);
    expect(restarted.budgetStatus().reserved.calls).toBe(0);
    restarted.releaseBudget(restarted.reserveBudget({ bootId: 'boot2', sessionId: null, micros: 900, tokens: 1 }));
  });

  it('holdBudget decides in memory; the rows reach the file in one batched commit, the usage with the next store call', async () => {
    t.store.setBudgetCaps({ dailyMicros: 1_000 });
    const session = t.store.createSession({ name: 's' });
    const other = t.reopen();
    const held: number[] = [];
    let refused = 0;
    for (let i = 0; i < 8; i++) {
      try {
        held.push(t.store.holdBudget({ bootId: BOOT, sessionId: session.id, micros: 300, tokens: 1 }));
      } catch (err) {
        if (!AppError.is(err, 'BUDGET_EXCEEDED')) throw err;
        refused++;
      }
    }
    expect([held.length, refused]).toEqual([3, 5]);
    // Nothing committed yet; once durable, another process sees all three.
    expect(other.budgetStatus().reserved.calls).toBe(0);
    await t.store.budgetDurable();
    expect(other.budgetStatus().reserved).toEqual({ micros: 900, tokens: 3, calls: 3 });

    const usage = { inputTokens: 10, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
    const record = (id: number) => ({ sessionId: session.id, messageId: null, provider: 'anthropic', model: 'm', usage, costMicros: 100, reservationId: id });
    t.store.settleBudget(record(held[0]!));
    expect(t.store.releaseBudget(held[1]!)).toBe(true);
    // The settled call's 100 and the one hold left: room for 600 more, not 601.
    expect(refusal(() => t.store.holdBudget({ bootId: BOOT, sessionId: null, micros: 601, tokens: 1 })).details).toMatchObject({ spentMicros: 100, reservedMicros: 300 });
    const last = t.store.holdBudget({ bootId: BOOT, sessionId: null, micros: 600, tokens: 1 });
    t.store.settleBudget(record(last));
    // Any store call writes what is queued first.
    expect(t.store.budgetStatus()).toMatchObject({ day: { spentMicros: 200 }, reserved: { micros: 300, calls: 1 } });
    expect(other.usageSummary().calls).toBe(2);
    t.store.settleBudget(record(held[2]!));
    t.store.close();
    expect(other.budgetStatus()).toMatchObject({ day: { spentMicros: 300 }, reserved: { calls: 0 } });
  });

  it('refuses bad caps and bad reservations with BAD_REQUEST and changes nothing', () => {
    t.store.setBudgetCaps({ dailyMicros: 1_000, softPercent: 80 });
    const before = t.store.dump();
    const badCaps: unknown[] = [
      { dailyMicros: -1 },
      { dailyMicros: 1.5 },
      { dailyMicros: Number.NaN },
      { dailyMicros: Number.POSITIVE_INFINITY },
      { dailyMicros: 1e20 },
      { monthlyMicros: '5' },
      { sessionMicros: true },
      { dailyTokens: -5 },
      { softPercent: 0 },
      { softPercent: 101 },
      { softPercent: 50.5 },
      { timeZone: 'Nowhere/Land' },
      { timeZone: 5 },
      { weekly: 5 },
      null,
    ];
    for (const patch of badCaps) expect(codeOf(() => t.store.setBudgetCaps(patch as never))).toBe('BAD_REQUEST');
    const badPlans: unknown[] = [
      { dailyMicros: -1, monthlyMicros: null, reason: null },
      { dailyMicros: null, monthlyMicros: 1e20, reason: null },
      { dailyMicros: null, monthlyMicros: null, reason: 'x'.repeat(301) },
      { dailyMicros: null, monthlyMicros: null, reason: 'bad\u0007bell' },
      { dailyMicros: null, monthlyMicros: null },
      { dailyMicros: 1, monthlyMicros: 1, reason: null, extra: 1 },
    ];
    for (const caps of badPlans) expect(codeOf(() => t.store.setPlanCaps(caps as never))).toBe('BAD_REQUEST');
    const badReservations: unknown[] = [
      { bootId: BOOT, sessionId: null, micros: -1, tokens: 1 },
      { bootId: BOOT, sessionId: null, micros: 1, tokens: Number.NaN },
      { bootId: '', sessionId: null, micros: 1, tokens: 1 },
      { bootId: BOOT, sessionId: 'a b', micros: 1, tokens: 1 },
    ];
    for (const input of badReservations) expect(codeOf(() => t.store.reserveBudget(input as never))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.releaseBudget(-1))).toBe('BAD_REQUEST');
    expect(t.store.dump()).toBe(before);
  });
});

describe('running totals (property)', () => {
  it('always equal the sums over the usage rows, whatever the order of calls, days, zones and deletions', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('call' as const), session: fc.integer({ min: 0, max: 2 }), cost: fc.option(fc.integer({ min: 0, max: 1_000 }), { nil: null }), tokens: fc.integer({ min: 0, max: 500 }) }),
      fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 40 * 3_600_000 }) }),
      fc.record({ kind: fc.constant('zone' as const), zone: fc.constantFrom('UTC', 'America/New_York', 'Asia/Kathmandu', 'Pacific/Kiritimati') }),
      fc.record({ kind: fc.constant('delete' as const), session: fc.integer({ min: 0, max: 2 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const clock = manualClock(Date.parse('2026-03-01T00:00:00Z'));
        const store = openStore({ path: ':memory:', now: clock.now });
        try {
          // Caps on everything so every total is in use.
          store.setBudgetCaps({ dailyMicros: 100_000_000, monthlyMicros: 100_000_000, sessionMicros: 100_000_000, dailyTokens: 1_000_000_000 });
          let sessions = [0, 1, 2].map((i) => store.createSession({ name: `s${i}` }).id);
          for (const o of ops) {
            if (o.kind === 'wait') clock.advance(o.ms);
            else if (o.kind === 'zone') store.setBudgetCaps({ timeZone: o.zone });
            else if (o.kind === 'delete') {
              store.deleteSession(sessions[o.session]!);
              sessions = sessions.map((id, i) => (i === o.session ? store.createSession({}).id : id));
            } else {
              const id = store.reserveBudget({ bootId: BOOT, sessionId: sessions[o.session]!, micros: o.cost ?? null, tokens: o.tokens });
              settle(store, id, o.cost, sessions[o.session]!, o.tokens);
            }
            const status = store.budgetStatus();
            const zone = status.caps.timeZone;
            const day = store.usageLedger({ timeZone: zone, from: status.day.period, to: status.day.period, by: [] }).total;
            expect([status.day.spentMicros, status.day.spentTokens, status.day.unpricedCalls]).toEqual([
              day.costMicros,
              day.inputTokens + day.outputTokens + day.cacheReadTokens + day.cacheWriteTokens,
              day.unpricedCalls,
            ]);
            const [y, m] = status.month.period.split('-').map(Number) as [number, number];
            const last = new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
            const month = store.usageLedger({ timeZone: zone, from: `${status.month.period}-01`, to: last, by: [] }).total;
            expect(status.month.spentMicros).toBe(month.costMicros);
          }
        } finally {
          store.close();
        }
      }),
      { numRuns: 80 },
    );
  });
});
