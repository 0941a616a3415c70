import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Message, ToolCallStatus } from '@autoclaw/shared';
import { openStore } from '../store';
import type { Store } from '../store/types';
import { SkillToolCatalog } from '../skills';
import { ContextBuilder, currentTurnTokens, OMITTED_LEAD, type PastContext } from './context-builder';
import { groupTurns, pushTurn, pushUser } from './history';
import { SILENT_LOGGER } from './logger';
import type { ProviderMessage } from './providers/types';
import { SUMMARY_LEAD } from './settled-past';

/** What a session goes through, one step at a time (the agent's own writes, in the store). */
type Step =
  | { op: 'send'; text: string }
  | { op: 'start' }
  | { op: 'text'; text: string }
  | { op: 'tools'; results: Array<ToolCallStatus | 'open'>; text: string }
  | { op: 'finish'; status: 'done' | 'failed' | 'cancelled' | 'interrupted' }
  | { op: 'retry'; pick: number }
  | { op: 'delete'; pick: number };

const SMALL_BUDGET = 1_700;
const BIG_BUDGET = 10_000_000;

/**
 * A session in a real store, and three views of its context for the running
 * turn: `inc` (one builder across all steps, small budget: it compacts and
 * leaves turns out), `big` (one builder, a budget nothing exceeds), and
 * builders made afresh for each comparison.
 */
class Session {
  readonly dir = mkdtempSync(join(tmpdir(), 'autoclaw-settled-'));
  readonly store: Store = openStore({ path: join(this.dir, 'gateway.db') });
  readonly sessionId = this.store.createSession({ name: 'main' }).id;
  readonly tools = new SkillToolCatalog([]);
  readonly inc = this.builder(SMALL_BUDGET);
  readonly big = this.builder(BIG_BUDGET);
  running: string | null = null;
  counts = { compared: 0, compacted: 0, retried: 0, deleted: 0, toolRounds: 0 };
  #clientId = 0;
  #summaries = 0;

  /** `checks`: compare the views at each turn start and tool round (which compacts the session now and then). */
  constructor(private readonly checks = true) {}

  builder(budgetTokens: number): ContextBuilder {
    return new ContextBuilder({ store: this.store, tools: this.tools, now: () => 1_700_000_000_000, budgetTokens, logger: SILENT_LOGGER });
  }

  close(): void {
    this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  #last(): Message | null {
    const ids = this.running ? this.store.turnMessages(this.running) : [];
    return ids[ids.length - 1] ?? null;
  }

  #newAssistant(): void {
    if (this.running) this.store.createAssistantMessage({ sessionId: this.sessionId, turnId: this.running, model: 'anthropic:claude-haiku-4-5' });
  }

  /** Messages a user could delete: not of the running turn. */
  #deletable(): Message[] {
    return this.store.listMessages(this.sessionId).filter((m) => m.id !== this.running && m.turnId !== this.running);
  }

  async apply(step: Step): Promise<void> {
    const { store } = this;
    const last = this.#last();
    switch (step.op) {
      case 'send':
        store.insertUserMessage({ sessionId: this.sessionId, clientId: `client-${++this.#clientId}`, text: step.text || '?' });
        return;
      case 'start': {
        const next = this.running ? null : store.nextQueued(this.sessionId);
        if (!next) return;
        store.setMessageStatus(next.id, 'running');
        this.running = next.id;
        this.#newAssistant();
        return this.compare();
      }
      case 'text': {
        // After a tool round the next answer starts now: messages sent meanwhile sit before it.
        if (this.running && last?.status !== 'streaming') this.#newAssistant();
        const answer = this.#last();
        if (answer?.status === 'streaming') store.setMessageText(answer.id, answer.text + step.text);
        return;
      }
      case 'tools': {
        if (this.running && last?.status !== 'streaming') this.#newAssistant();
        const target = this.#last();
        if (target?.status !== 'streaming') return;
        if (step.text) store.setMessageText(target.id, step.text);
        const calls = store.insertToolCalls(
          target.id,
          step.results.map((_, i) => ({ id: `${target.id}-t${i}`, name: 'current_time', input: `{"i":${i}}`, risky: false, status: 'pending' })),
        );
        store.setMessageStatus(target.id, 'done');
        calls.forEach((call, i) => {
          const result = step.results[i] ?? 'open';
          store.updateToolCall(call.id, result === 'open' ? { status: 'running' } : { status: result, result: `result ${i} ${step.text}` });
        });
        this.counts.toolRounds++;
        return this.compare();
      }
      case 'finish': {
        if (!this.running) return;
        if (last?.status === 'streaming') store.setMessageStatus(last.id, step.status === 'done' ? 'done' : step.status);
        store.setMessageStatus(this.running, step.status);
        this.running = null;
        return;
      }
      case 'retry': {
        const retryable = store.listMessages(this.sessionId).filter((m) => m.role === 'user' && ['failed', 'cancelled', 'interrupted'].includes(m.status));
        const message = retryable[step.pick % Math.max(1, retryable.length)];
        if (!message) return;
        store.setMessageStatus(message.id, 'queued', null);
        this.#invalidate();
        this.counts.retried++;
        return;
      }
      case 'delete': {
        const candidates = this.#deletable();
        const message = candidates[step.pick % Math.max(1, candidates.length)];
        if (!message) return;
        store.deleteMessage(message.id);
        this.#invalidate();
        this.counts.deleted++;
        return;
      }
    }
  }

  #invalidate(): void {
    this.inc.invalidate(this.sessionId);
    this.big.invalidate(this.sessionId);
  }

  /** The context of the running turn, as the turn runner asks for it. */
  #input(summarize: ((transcript: string) => Promise<string>) | null) {
    const user = this.store.getMessage(this.running ?? '') as Message;
    const current = this.store.turnMessages(user.id);
    return { sessionId: this.sessionId, user, currentIds: new Set(current.map((m) => m.id)), currentTokens: currentTurnTokens(user, current), summarize };
  }

  async compare(): Promise<void> {
    if (!this.running || !this.checks) return;
    this.counts.compared++;
    const summarize = async () => `summary ${++this.#summaries}`;
    let inc = await this.inc.prepare(this.#input(summarize));
    if (inc.compacted) {
      this.counts.compacted++;
      // The other builder sees the new summary only from a fresh read (one builder per gateway in the product).
      this.big.invalidate(this.sessionId);
      inc = await this.inc.prepare(this.#input(null));
    }
    expect(inc).toEqual(await this.builder(SMALL_BUDGET).prepare(this.#input(null)));
    const big = await this.big.prepare(this.#input(null));
    expect(big).toEqual(await this.builder(BIG_BUDGET).prepare(this.#input(null)));
    expect(big.past).toEqual(this.#reference());
  }

  /** The conversation as it was built before settled-past.ts: the whole window grouped and converted, no budget. */
  #reference(): ProviderMessage[] {
    const { store, sessionId } = this;
    const summary = store.latestSummary(sessionId);
    const window = store.listMessages(sessionId, summary ? { afterSeq: summary.uptoSeq } : undefined);
    const { currentIds } = this.#input(null);
    const past: ProviderMessage[] = [];
    if (summary) pushUser(past, SUMMARY_LEAD + summary.text);
    for (const turn of groupTurns(window, (id) => store.turnMessages(id).map((m) => m.id))) {
      if (turn.user && (turn.user.id === this.running || turn.user.status === 'queued')) continue;
      pushTurn(past, { ...turn, assistants: turn.assistants.filter((m) => !currentIds.has(m.id)) });
    }
    if (past[0]?.role === 'assistant') past.unshift({ role: 'user', content: [{ type: 'text', text: OMITTED_LEAD }] });
    return past;
  }
}

async function run(steps: readonly Step[]): Promise<Session['counts']> {
  const session = new Session();
  try {
    for (const step of steps) await session.apply(step);
    return session.counts;
  } finally {
    session.close();
  }
}

const text = fc.oneof(fc.constant(''), fc.string({ maxLength: 40 }), fc.nat({ max: 1_500 }).map((n) => 'long answer '.repeat(Math.ceil(n / 12))));
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: text.map((t): Step => ({ op: 'send', text: t })) },
  { weight: 4, arbitrary: fc.constant<Step>({ op: 'start' }) },
  { weight: 2, arbitrary: text.map((t): Step => ({ op: 'text', text: t })) },
  {
    weight: 2,
    arbitrary: fc
      .record({ results: fc.array(fc.constantFrom<ToolCallStatus | 'open'>('done', 'error', 'denied', 'open'), { minLength: 1, maxLength: 3 }), text })
      .map((r): Step => ({ op: 'tools', ...r })),
  },
  { weight: 3, arbitrary: fc.constantFrom<'done' | 'failed' | 'cancelled' | 'interrupted'>('done', 'done', 'failed', 'cancelled', 'interrupted').map((s): Step => ({ op: 'finish', status: s })) },
  { weight: 1, arbitrary: fc.nat().map((pick): Step => ({ op: 'retry', pick })) },
  { weight: 1, arbitrary: fc.nat().map((pick): Step => ({ op: 'delete', pick })) },
);

describe('settled past (a turn converts only what is new)', () => {
  it('builds the same context across turns as from scratch, in a long mixed session', async () => {
    const long = 'a fairly long answer that fills the budget. '.repeat(12);
    const steps: Step[] = [];
    for (let i = 0; i < 40; i++) {
      steps.push({ op: 'send', text: `question ${i}` }, { op: 'start' });
      // A message sent while the turn's tool loop runs lands between its answers.
      if (i % 3 === 0) steps.push({ op: 'tools', results: ['done', 'error'], text: `looking ${i}` }, { op: 'send', text: `meanwhile ${i}` });
      if (i % 7 === 2) steps.push({ op: 'tools', results: ['open'], text: 'a tool that never finished' });
      steps.push({ op: 'text', text: i % 4 === 0 ? long : `answer ${i}` });
      steps.push({ op: 'finish', status: i % 5 === 1 ? 'failed' : i % 9 === 4 ? 'interrupted' : 'done' });
      if (i % 6 === 5) steps.push({ op: 'retry', pick: i });
      if (i % 8 === 7) steps.push({ op: 'delete', pick: i * 3 });
    }
    const counts = await run(steps);
    expect(counts.compared).toBeGreaterThanOrEqual(60);
    expect(counts.compacted).toBeGreaterThan(0);
    expect(counts.retried).toBeGreaterThan(0);
    expect(counts.deleted).toBeGreaterThan(0);
  });

  it('builds the same context across turns as from scratch, for any sequence of steps', async () => {
    const total = { compared: 0, compacted: 0, retried: 0, deleted: 0, toolRounds: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 30, maxLength: 150 }), async (steps) => {
        const counts = await run(steps);
        for (const key of Object.keys(total) as Array<keyof typeof total>) total[key] += counts[key];
      }),
      // A fixed seed: the same runs every time (the counts below hold for them).
      { numRuns: 60, seed: 20261207 },
    );
    // The runs did go through each kind of step.
    expect(total.compared).toBeGreaterThan(300);
    for (const key of ['compacted', 'retried', 'deleted', 'toolRounds'] as const) expect(total[key], key).toBeGreaterThan(5);
  });

  it('hands out the same message objects for the settled past, turn after turn', async () => {
    const session = new Session(false);
    try {
      const contexts: PastContext[] = [];
      for (let i = 0; i < 6; i++) {
        await session.apply({ op: 'send', text: `question ${i}` });
        await session.apply({ op: 'start' });
        contexts.push(await session.big.prepare({ ...inputOf(session), summarize: null }));
        await session.apply({ op: 'text', text: `answer ${i}` });
        await session.apply({ op: 'finish', status: 'done' });
      }
      const [before, after] = contexts.slice(-2) as [PastContext, PastContext];
      expect(after.past.length).toBe(before.past.length + 2);
      // Every message of the earlier turn's past is the same object (only the new turn's are new).
      for (let i = 0; i < before.past.length; i++) expect(after.past[i]).toBe(before.past[i]);
    } finally {
      session.close();
    }
  });
});

describe('settled past with tool rounds and messages sent during them', () => {
  it('moves its front past interleaved turns: each turn reuses the earlier messages', async () => {
    const session = new Session(false);
    try {
      const pasts: ProviderMessage[][] = [];
      for (let i = 0; i < 12; i++) {
        await session.apply({ op: 'send', text: `question ${i}` });
        await session.apply({ op: 'start' });
        pasts.push((await session.big.prepare({ ...inputOf(session), summarize: null })).past);
        // A message sent during the tool round sits between this turn's answers (it runs next).
        await session.apply({ op: 'tools', results: ['done'], text: `looking ${i}` });
        await session.apply({ op: 'send', text: `meanwhile ${i}` });
        await session.apply({ op: 'text', text: `answer ${i}` });
        await session.apply({ op: 'finish', status: 'done' });
        // Then the message sent meanwhile gets its answer.
        await session.apply({ op: 'start' });
        await session.apply({ op: 'text', text: `later answer ${i}` });
        await session.apply({ op: 'finish', status: 'done' });
      }
      for (let t = 4; t < pasts.length; t++) {
        const before = pasts[t - 1] as ProviderMessage[];
        const after = pasts[t] as ProviderMessage[];
        expect(after.length).toBeGreaterThan(before.length);
        // All but the newest few (the turn that settled since, and the one merged into) are the same objects.
        let shared = 0;
        while (shared < before.length && after[shared] === before[shared]) shared++;
        expect(shared).toBeGreaterThanOrEqual(before.length - 4);
      }
    } finally {
      session.close();
    }
  });
});

function inputOf(session: Session) {
  const user = session.store.getMessage(session.running ?? '') as Message;
  const current = session.store.turnMessages(user.id);
  return { sessionId: session.sessionId, user, currentIds: new Set(current.map((m) => m.id)), currentTokens: currentTurnTokens(user, current) };
}
