import { afterEach, describe, expect, it } from 'vitest';
import type { Message, Notice, NoticeInput, NoticeSink } from '@autoclaw/shared';
import { startAnthropicWireServer } from '../testing/anthropic-wire-server';
import type { WireServerHandle } from '../testing';
import { openStore } from '../store';
import { BudgetGate } from './budget-gate';
import type { ChatServiceDeps } from './chat-service';
import { SILENT_LOGGER } from './logger';
import { TEST_KEY, defaultModel, makeProvider, openHarness, waitFor, type Harness } from './test-harness';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Notices as the gateway's board keeps them: once per key. */
function recordingSink(): NoticeSink & { published: NoticeInput[] } {
  const keys = new Set<string>();
  const published: NoticeInput[] = [];
  return {
    published,
    publish(input) {
      if (input.key !== undefined && keys.has(input.key)) return null;
      if (input.key !== undefined) keys.add(input.key);
      published.push(input);
      return { id: `n${published.length}`, seq: published.length, kind: input.kind, level: input.level, title: input.title, body: input.body, createdAt: 0, readAt: null } satisfies Notice;
    },
  };
}

async function setup(opts: Partial<ChatServiceDeps> = {}): Promise<{ h: Harness; wire: WireServerHandle }> {
  const wire = await startAnthropicWireServer({ apiKey: TEST_KEY });
  cleanups.push(() => wire.close());
  const provider = makeProvider('anthropic', wire.url);
  // claude-haiku-4-5: priced ($1 in, $5 out per million tokens).
  const h = await openHarness({ resolveProvider: () => ({ provider, model: defaultModel('anthropic') }), ...opts });
  cleanups.push(() => h.close());
  return { h, wire };
}

const settledTurn = (h: Harness, id: string) =>
  waitFor(() => {
    const m = h.store.getMessage(id);
    return m && !['queued', 'running'].includes(m.status) ? m : null;
  }, 10_000, `turn ${id}`);

const lastUserText = (body: unknown): string => {
  const messages = (body as { messages: Array<{ role: string; content: unknown }> }).messages;
  const last = messages.filter((m) => m.role === 'user').at(-1)?.content;
  if (typeof last === 'string') return last;
  return ((last ?? []) as Array<{ type: string; text?: string }>).map((b) => b.text ?? '').join('');
};

describe('hard budgets in the agent', () => {
  it('refuses a turn before any request when the cap cannot hold its worst case; the message stays; raising the cap lets it run', async () => {
    const { h, wire } = await setup();
    h.store.setBudgetCaps({ dailyMicros: 1_000 }); // $0.001: less than one answer's max_tokens
    const sent = h.send('what does this cost?');
    const user = await settledTurn(h, sent.id);
    expect(user.status).toBe('failed');
    expect(user.text).toBe('what does this cost?');
    expect(user.error?.code).toBe('BUDGET_EXCEEDED');
    expect(user.error?.message).toMatch(/^Daily budget reached — not sent: \$0\.00 of \$0\.001 spent today, \$0\.001 left, and this answer could cost up to \$0\.\d+\. Raise the daily budget in Costs → Budget/);
    expect(wire.requests).toHaveLength(0);
    expect(h.store.usageSummary().calls).toBe(0);
    expect(h.store.budgetStatus().reserved.calls).toBe(0);

    h.store.setBudgetCaps({ dailyMicros: 1_000_000 });
    h.service.retry(sent.id);
    expect((await settledTurn(h, sent.id)).status).toBe('done');
    expect(wire.requests).toHaveLength(1);
    const status = h.store.budgetStatus();
    expect(status.reserved.calls).toBe(0);
    expect(status.day.spentMicros).toBe(h.store.usageSummary().costMicros);
    expect(status.day.spentMicros).toBeGreaterThan(0);
  });

  it('pooled credit pushed by the manager is a hard cap counted from its sync cursor: refused before any request, no sync needed', async () => {
    const { h, wire } = await setup();
    // The manager counted nothing yet and the account holds $0.10 of credit.
    h.store.setPlanCaps({ dailyMicros: null, monthlyMicros: null, reason: null, creditMicros: 100_000, creditAfter: 0 });
    const first = h.send('hello');
    expect((await settledTurn(h, first.id)).status).toBe('done');
    expect(wire.requests).toHaveLength(1);
    // Calls since the cursor spend the credit at once (here one of $0.09 beside the turn's).
    const session = h.store.createSession({ name: 'other' });
    h.store.recordUsage({ sessionId: session.id, messageId: null, provider: 'anthropic', model: 'claude-haiku-4-5', usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 }, costMicros: 90_000 });
    expect(h.store.usageSummary().costMicros).toBeGreaterThan(90_000);
    const sent = h.send('and now?');
    const user = await settledTurn(h, sent.id);
    expect(user.error?.code).toBe('BUDGET_EXCEEDED');
    expect(user.error?.message).toMatch(/^Not enough AI credit — not sent: \$0\.\d+ of AI credit left, and this answer could cost up to \$0\.\d+\. Top up on the Billing page to continue\.$/);
    expect(wire.requests).toHaveLength(1);
    expect(h.store.budgetStatus().plan).toMatchObject({ creditMicros: 100_000, creditAfter: 0 });
    // What the Costs page shows: the credit, what was spent since the cursor, and what is left.
    const spent = h.store.usageSummary().costMicros;
    expect(h.store.budgetStatus().credit).toEqual({ limitMicros: 100_000, spentMicros: spent, leftMicros: Math.max(0, 100_000 - spent) });

    // The next sync moves the cursor past what it debited; a top-up raises the credit: answers resume.
    const cursor = h.store.usagePage(0, 1_000).nextCursor;
    h.store.setPlanCaps({ dailyMicros: null, monthlyMicros: null, reason: null, creditMicros: 1_000_000, creditAfter: cursor });
    h.service.retry(sent.id);
    expect((await settledTurn(h, sent.id)).status).toBe('done');
    expect(wire.requests).toHaveLength(2);
    const after = h.store.budgetStatus().credit!;
    expect(after.limitMicros).toBe(1_000_000);
    expect(after.spentMicros).toBe(h.store.usageSummary().costMicros - spent);
    expect(after.leftMicros).toBe(1_000_000 - after.spentMicros);
    // No credit cap: no credit in the status.
    h.store.setPlanCaps({ dailyMicros: null, monthlyMicros: null, reason: null });
    expect(h.store.budgetStatus().credit).toBeUndefined();
  });

  it("a call's usage row is in the file before its usage event goes on: a kill -9 after that loses no spent money", async () => {
    const { h, wire } = await setup();
    const gate = new BudgetGate({ store: h.store, bootId: 'boot-durable', logger: SILENT_LOGGER });
    const model = defaultModel('anthropic');
    const session = h.store.createSession({ name: 'durable' });
    const provider = gate.guard(makeProvider('anthropic', wire.url), model, { sessionId: session.id, messageId: null, channel: 'webchat', tool: null });
    const request = { model: model.model, system: '', messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'count me' }] }], tools: [], maxTokens: 256, signal: new AbortController().signal };
    // What a process started after kill -9 reads: the file, through its own connection.
    const inFile = () => {
      const other = openStore({ path: `${h.dir}/gateway.db` });
      try {
        return { calls: other.usageSummary().calls, reserved: other.budgetStatus().reserved.calls };
      } finally {
        other.close();
      }
    };
    let seen: { calls: number; reserved: number } | null = null;
    for await (const event of provider.stream(request)) {
      // Nothing else touches the store between the settle and here (no other store call flushes the queue).
      if (event.type === 'usage') seen = inFile();
    }
    expect(wire.requests).toHaveLength(1);
    expect(seen).toEqual({ calls: 1, reserved: 0 });
  });

  it('lets 8 concurrent turns past a cap only as far as their worst cases fit, and never past the cap', async () => {
    const { h, wire } = await setup();
    // One call's worst case, read while a call of the same size hangs.
    const calibration = h.service.createSession({ name: 'calibration' });
    wire.enqueue({ kind: 'hang', textBefore: 'wait' });
    const probe = h.send('race turn x', calibration.id);
    await waitFor(() => wire.requests.length === 1 && h.store.budgetStatus().reserved.calls === 1, 5_000, 'the hanging call');
    const worst = h.store.budgetStatus().reserved.micros;
    h.service.cancel(calibration.id);
    await settledTurn(h, probe.id);
    await waitFor(() => h.store.budgetStatus().reserved.calls === 0, 5_000, 'the release');
    const spentBefore = h.store.usageSummary().costMicros;

    // Room for three worst cases and a half; answers are slow, so all eight reserve before any settles.
    const cap = spentBefore + Math.floor(3.5 * worst);
    h.store.setBudgetCaps({ dailyMicros: cap });
    for (let i = 0; i < 8; i++) wire.enqueue({ kind: 'text', text: 'one two three four five six', chunkDelayMs: 100 });
    const sessions = Array.from({ length: 8 }, (_, i) => h.service.createSession({ name: `race ${i}` }));
    const sent = sessions.map((s, i) => h.send(`race turn ${i}`, s.id));
    const ended: Message[] = await Promise.all(sent.map((m) => settledTurn(h, m.id)));

    const done = ended.filter((m) => m.status === 'done');
    const refused = ended.filter((m) => m.status === 'failed');
    expect(done).toHaveLength(3);
    expect(refused).toHaveLength(5);
    for (const m of refused) expect(m.error?.code).toBe('BUDGET_EXCEEDED');
    // The provider saw exactly the admitted turns, and none of the refused ones.
    const seen = wire.requests.slice(1).map((r) => lastUserText(r.body));
    expect(seen.sort()).toEqual(done.map((m) => m.text).sort());
    for (const m of refused) expect(seen.join('\n')).not.toContain(m.text);
    const status = h.store.budgetStatus();
    expect(status.day.spentMicros).toBeLessThanOrEqual(cap);
    expect(h.store.usageSummary().costMicros).toBe(status.day.spentMicros);
    expect(status.reserved.calls).toBe(0);
  });

  it('budgets every round of the tool loop, and records which tools a round read', async () => {
    const { h, wire } = await setup();
    // Round 1 asks for a tool and reports 100k input tokens ($0.10); round 2 no longer fits under $0.12.
    h.store.setBudgetCaps({ dailyMicros: 120_000 });
    wire.enqueue({ kind: 'tool_use', calls: [{ name: 'current_time', input: {} }], usage: { input: 100_000, output: 10 } });
    const sent = h.send('what time is it?');
    const user = await settledTurn(h, sent.id);
    expect(user.status).toBe('interrupted');
    expect(user.error?.code).toBe('BUDGET_EXCEEDED');
    expect(wire.requests).toHaveLength(1);
    const turn = h.store.turnMessages(sent.id);
    expect(turn[0]?.toolCalls.map((c) => [c.name, c.status])).toEqual([['current_time', 'done']]);
    expect(turn.at(-1)?.error?.code).toBe('BUDGET_EXCEEDED');

    // With room again, the retry's first call reads the tool's result: it is counted under the tool.
    h.store.setBudgetCaps({ dailyMicros: 5_000_000 });
    h.service.retry(sent.id);
    expect((await settledTurn(h, sent.id)).status).toBe('done');
    const byTool = h.store.usageLedger({ timeZone: 'UTC', by: ['tool'] }).rows.map((r) => [r.tool, r.calls]);
    expect(byTool).toEqual([
      [null, 1],
      ['current_time', 1],
    ]);
  });

  it('budgets context summaries: a refused summary refuses the turn before any request', async () => {
    const texts = Array.from({ length: 10 }, (_, i) => `message number ${i} ${'lorem ipsum '.repeat(35)}`);
    const isSummary = (body: unknown) => JSON.stringify((body as { system?: unknown }).system).includes('Summarize');
    // Where does compaction start with these messages?
    const first = await setup({ contextBudgetTokens: 3_000 });
    let compactAt = -1;
    for (const [i, text] of texts.entries()) {
      const before = first.wire.requests.length;
      first.h.send(text);
      await first.h.service.idle();
      if (first.wire.requests.slice(before).some((r) => isSummary(r.body))) {
        compactAt = i;
        break;
      }
    }
    expect(compactAt).toBeGreaterThan(0);

    const { h, wire } = await setup({ contextBudgetTokens: 3_000 });
    for (const text of texts.slice(0, compactAt)) {
      h.send(text);
      await h.service.idle();
    }
    const before = wire.requests.length;
    h.store.setBudgetCaps({ dailyMicros: h.store.usageSummary().costMicros + 1_000 });
    const sent = h.send(texts[compactAt]!);
    const refused = await settledTurn(h, sent.id);
    expect(refused.error?.code).toBe('BUDGET_EXCEEDED');
    expect(wire.requests.length).toBe(before);

    // Raised, the same turn's first call is the summary: it was the call refused.
    h.store.setBudgetCaps({ dailyMicros: 50_000_000 });
    h.service.retry(sent.id);
    expect((await settledTurn(h, sent.id)).status).toBe('done');
    expect(isSummary(wire.requests[before]!.body)).toBe(true);
    const summaryRows = h.store.usagePage(0, 1_000).rows.filter((r) => r.tool === null);
    expect(summaryRows.length).toBe(wire.requests.length);
  });

  it('tells the user once per period when the soft line is passed', async () => {
    const notices = recordingSink();
    const { h, wire } = await setup({ notices });
    h.store.setBudgetCaps({ dailyMicros: 1_000_000, softPercent: 5 });
    // $0.03 of a $1.00 cap: under the 5% line.
    wire.enqueue({ kind: 'text', text: 'fine', usage: { input: 30_000, output: 1 } });
    await settledTurn(h, h.send('first').id);
    expect(notices.published).toEqual([]);
    // $0.06: past it. Then more: still one notice.
    wire.enqueue({ kind: 'text', text: 'fine', usage: { input: 30_000, output: 1 } }, { kind: 'text', text: 'fine', usage: { input: 30_000, output: 1 } });
    await settledTurn(h, h.send('second').id);
    await settledTurn(h, h.send('third').id);
    const today = h.store.budgetStatus().day.period;
    expect(notices.published).toEqual([
      {
        kind: 'budget',
        level: 'warning',
        title: '5% of your daily budget used',
        body: expect.stringContaining(' of $1.00 spent today (UTC). Answers stop at the cap; raise it under Costs → Budget.'),
        key: `budget:soft:daily:${today}`,
      },
    ]);
  });
});
