/**
 * The costs procedures through a real tRPC WebSocket client: the ledger, the
 * user's budget (a refusal, then room again), the soft-line notice, the
 * manager's cursor and plan caps, and the bad-input corpus for each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRPCClientError } from '@trpc/client';
import type { Message } from '@autoclaw/shared';
import { generateDeviceKey, type DeviceKeyPair } from '../security';
import type { GatewayConnection } from '../cli';
import type { AppRouter } from './router-type';
import { openAuthedSocket, startTestGateway, type RawSocket, type TestGateway } from './test-kit';

function appCode(err: unknown): string | undefined {
  return err instanceof TRPCClientError ? (err as TRPCClientError<AppRouter>).data?.appCode : undefined;
}

async function refusedWith(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return appCode(err);
  }
  return 'ok';
}

const today = (timeZone: string) =>
  new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());

describe('costs procedures', () => {
  let t: TestGateway;
  let conn: GatewayConnection;
  let manager: DeviceKeyPair;
  let sessionId: string;
  let n = 0;

  beforeAll(async () => {
    // A priced model on the local Anthropic wire server.
    t = await startTestGateway({ model: 'anthropic:claude-haiku-4-5' });
    conn = t.connect(t.addDevice('laptop'));
    manager = generateDeviceKey();
    t.gateway.store.insertDevice({ id: manager.deviceId, name: 'manager', kind: 'manager', role: 'owner', publicKey: manager.publicKey });
    sessionId = (await conn.client.sessions.ensure.mutate({ name: 'main' })).id;
  });
  afterAll(async () => {
    await t.close();
  });

  /** Sends a message and waits until its turn ended; returns the user message as stored. */
  async function turn(text: string): Promise<Message> {
    n += 1;
    const sent = await conn.client.chat.send.mutate({ sessionId, clientId: `costs-client-${n}`, text });
    let found: Message | undefined;
    await expect
      .poll(async () => {
        found = (await conn.client.chat.history.query({ sessionId })).find((m) => m.id === sent.message.id);
        return found?.status;
      }, { timeout: 10_000 })
      .toMatch(/^(done|failed|interrupted)$/);
    return found!;
  }

  it('shows the day’s spend by day and model in the client’s time zone, the same as the summary', async () => {
    expect((await conn.client.usage.ledger.query({ timeZone: 'Europe/Berlin', by: ['day'] })).rows).toEqual([]);
    expect((await turn('hello there')).status).toBe('done');
    const ledger = await conn.client.usage.ledger.query({ timeZone: 'Europe/Berlin', by: ['day', 'model'] });
    const summary = await conn.client.usage.summary.query();
    expect(ledger.rows).toEqual([
      expect.objectContaining({ day: today('Europe/Berlin'), model: 'anthropic:claude-haiku-4-5', calls: 1, costMicros: summary.costMicros, unpricedCalls: 0 }),
    ]);
    expect(summary.costMicros).toBeGreaterThan(0);
    const bySession = await conn.client.usage.ledger.query({ timeZone: 'UTC', from: today('UTC'), by: ['session', 'channel'] });
    expect(bySession.rows).toEqual([expect.objectContaining({ sessionId, channel: 'webchat', calls: 1 })]);
    expect(bySession.sessions[sessionId]).toEqual({ title: 'main', channel: 'webchat' });
  });

  it('refuses a turn over the daily cap with no request sent, and runs again once raised; the soft line makes one notice', async () => {
    const tz = 'America/New_York';
    const status = await conn.client.budget.set.mutate({ dailyMicros: 1_000, timeZone: tz });
    expect(status).toMatchObject({ caps: { dailyMicros: 1_000, timeZone: tz }, effective: { dailyMicros: 1_000, dailySource: 'user' }, day: { period: today(tz) } });
    const requests = t.wire.requests.length;
    const refused = await turn('this one is over budget');
    expect(refused).toMatchObject({ status: 'failed', text: 'this one is over budget', error: { code: 'BUDGET_EXCEEDED' } });
    expect(refused.error?.message).toContain('Raise the daily budget in Costs → Budget');
    expect(t.wire.requests.length).toBe(requests);

    const spent = (await conn.client.budget.get.query()).day.spentMicros;
    // Raised to a dollar with the soft line at 1 % ($0.01); the next answer reads 20k tokens ($0.02) and passes it.
    expect(spent).toBeLessThan(10_000);
    await conn.client.budget.set.mutate({ dailyMicros: 1_000_000, softPercent: 1 });
    t.wire.enqueue({ kind: 'text', text: 'Sure.', usage: { input: 20_000, output: 5 } });
    expect((await turn('and now?')).status).toBe('done');
    expect((await turn('once more')).status).toBe('done');
    const notices = await conn.client.notices.list.query({});
    expect(notices.notices.filter((x) => x.kind === 'budget')).toEqual([
      expect.objectContaining({ level: 'warning', title: expect.stringMatching(/^\d+% of your daily budget used$/) }),
    ]);
    await conn.client.budget.set.mutate({ dailyMicros: null, softPercent: null });
  });

  it('gives the manager the usage rows after a cursor and the plan caps; a client may use neither', async () => {
    const { client: mgr } = t.connect(manager);
    const first = await mgr.admin.usagePage.query({ after: 0, limit: 2 });
    expect(first.rows).toHaveLength(2);
    expect(await mgr.admin.usagePage.query({ after: 0, limit: 2 })).toEqual(first);
    const rest = await mgr.admin.usagePage.query({ after: first.nextCursor, limit: 1_000 });
    const all = [...first.rows, ...rest.rows];
    expect(all.reduce((sum, r) => sum + (r.costMicros ?? 0), 0)).toBe((await conn.client.usage.summary.query()).costMicros);
    expect(all.map((r) => r.id)).toEqual([...all.map((r) => r.id)].sort((a, b) => a - b));
    expect(await mgr.admin.usagePage.query({ after: rest.nextCursor, limit: 10 })).toEqual({ rows: [], nextCursor: rest.nextCursor });

    const plan = await mgr.admin.setPlanCaps.mutate({ dailyMicros: 0, monthlyMicros: null, reason: 'Your credits ran out. Top up to continue.' });
    expect(plan).toMatchObject({ dailyMicros: 0, monthlyMicros: null, reason: 'Your credits ran out. Top up to continue.' });
    expect((await conn.client.budget.get.query()).plan).toEqual(plan);
    // The user is told why.
    expect((await conn.client.notices.list.query({})).notices[0]).toMatchObject({
      kind: 'budget',
      level: 'error',
      title: 'Answers are paused by your plan',
      body: 'at most $0.00 a day, no month limit. Your credits ran out. Top up to continue.',
    });
    const before = t.gateway.store.dump();
    expect(await refusedWith(conn.client.budget.set.mutate({ dailyMicros: 5_000_000 }))).toBe('FORBIDDEN');
    expect(t.gateway.store.dump()).toBe(before);
    const requests = t.wire.requests.length;
    const refused = await turn('no credits left');
    expect(refused.error?.code).toBe('BUDGET_EXCEEDED');
    expect(refused.error?.message).toContain('Your credits ran out. Top up to continue.');
    expect(t.wire.requests.length).toBe(requests);
    await mgr.admin.setPlanCaps.mutate({ dailyMicros: null, monthlyMicros: null, reason: null });
    expect((await turn('credits back')).status).toBe('done');

    // A device paired for chat only may read the budget but not change it.
    const chatOnly = t.connect(t.addDevice('phone', 'chat'));
    expect((await chatOnly.client.budget.get.query()).caps.dailyMicros).toBeNull();
    const clientBefore = t.gateway.store.dump();
    expect(await refusedWith(chatOnly.client.budget.set.mutate({ dailyMicros: 5 }))).toBe('FORBIDDEN');
    expect(await refusedWith(conn.client.admin.usagePage.query({ after: 0, limit: 10 }))).toBe('FORBIDDEN');
    expect(await refusedWith(conn.client.admin.setPlanCaps.mutate({ dailyMicros: null, monthlyMicros: null, reason: null }))).toBe('FORBIDDEN');
    expect(t.gateway.store.dump()).toBe(clientBefore);
  });

  describe('bad input on every costs procedure', () => {
    let client: RawSocket;
    let mgr: RawSocket;
    beforeAll(async () => {
      client = await openAuthedSocket(t.url, t.addDevice('raw'));
      mgr = await openAuthedSocket(t.url, manager);
      // A first call records when each device was last seen; from then on nothing else may change.
      await client.call('query', 'budget.get');
      await mgr.call('query', 'budget.get');
    });
    afterAll(() => {
      client.ws.close();
      mgr.ws.close();
    });

    const huge = 1e20;
    const cases: Array<[string, 'query' | 'mutation', string, unknown]> = [
      ['negative cap', 'mutation', 'budget.set', { dailyMicros: -1 }],
      ['fractional cap', 'mutation', 'budget.set', { monthlyMicros: 0.5 }],
      ['huge cap', 'mutation', 'budget.set', { sessionMicros: huge }],
      ['cap as text', 'mutation', 'budget.set', { dailyMicros: 'NaN' }],
      ['negative token cap', 'mutation', 'budget.set', { dailyTokens: -10 }],
      ['soft 0 %', 'mutation', 'budget.set', { softPercent: 0 }],
      ['soft 101 %', 'mutation', 'budget.set', { softPercent: 101 }],
      ['unknown time zone', 'mutation', 'budget.set', { timeZone: 'Mars/Olympus' }],
      ['unknown period', 'mutation', 'budget.set', { weeklyMicros: 5 }],
      ['no input', 'mutation', 'budget.set', undefined],
      ['ledger: unknown grouping', 'query', 'usage.ledger', { timeZone: 'UTC', by: ['week'] }],
      ['ledger: bad time zone', 'query', 'usage.ledger', { timeZone: '../etc/passwd', by: [] }],
      ['ledger: not a date', 'query', 'usage.ledger', { timeZone: 'UTC', from: '2026-02-30', by: [] }],
      ['ledger: from after to', 'query', 'usage.ledger', { timeZone: 'UTC', from: '2026-03-02', to: '2026-03-01', by: [] }],
      ['ledger: extra key', 'query', 'usage.ledger', { timeZone: 'UTC', by: [], limit: 5 }],
      ['ledger: no time zone', 'query', 'usage.ledger', { by: ['day'] }],
    ];
    const managerCases: Array<[string, 'query' | 'mutation', string, unknown]> = [
      ['page: negative cursor', 'query', 'admin.usagePage', { after: -1, limit: 10 }],
      ['page: zero limit', 'query', 'admin.usagePage', { after: 0, limit: 0 }],
      ['page: huge limit', 'query', 'admin.usagePage', { after: 0, limit: 1_000_000 }],
      ['page: fractional cursor', 'query', 'admin.usagePage', { after: 1.5, limit: 10 }],
      ['page: cursor as text', 'query', 'admin.usagePage', { after: 'NaN', limit: 10 }],
      ['plan: negative', 'mutation', 'admin.setPlanCaps', { dailyMicros: -5, monthlyMicros: null, reason: null }],
      ['plan: huge', 'mutation', 'admin.setPlanCaps', { dailyMicros: null, monthlyMicros: huge, reason: null }],
      ['plan: missing field', 'mutation', 'admin.setPlanCaps', { dailyMicros: null, reason: null }],
      ['plan: reason too long', 'mutation', 'admin.setPlanCaps', { dailyMicros: null, monthlyMicros: null, reason: 'x'.repeat(301) }],
      ['plan: control characters', 'mutation', 'admin.setPlanCaps', { dailyMicros: null, monthlyMicros: null, reason: 'a\u0000b' }],
    ];

    it('a cap that is not a finite number (1e400 on the wire): BAD_REQUEST, nothing changed', async () => {
      const before = t.gateway.store.dump();
      client.send('{"id":900,"method":"mutation","params":{"path":"budget.set","input":{"dailyMicros":1e400}}}');
      expect((await client.next((m) => m['id'] === 900))['error']).toMatchObject({ data: { appCode: 'BAD_REQUEST' } });
      expect(t.gateway.store.dump()).toBe(before);
    });

    it.each([...cases.map((c) => [...c, 'client'] as const), ...managerCases.map((c) => [...c, 'manager'] as const)])(
      '%s: BAD_REQUEST, nothing changed',
      async (_name, method, path, input, who) => {
        const before = t.gateway.store.dump();
        const answer = await (who === 'client' ? client : mgr).call(method, path, input);
        expect(answer['error']).toMatchObject({ data: { appCode: 'BAD_REQUEST' } });
        expect(t.gateway.store.dump()).toBe(before);
      },
    );
  });
});
