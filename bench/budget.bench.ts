// budget.check_p99_us: what the budget gate adds around one provider call,
// through the agent's own entry points (BudgetGate.reserve before the request,
// BudgetGate.settle on its usage): the worst-case estimate of a realistic
// request, the decision against daily, monthly, per-session and token caps
// with the hold (in memory: the budget book), and the settlement. Neither
// commits: their rows go to the file in the batched write that the agent
// awaits before the request leaves — measured beside it as
// budget.write_p99_us (one hold and one usage row per commit here; under load
// one commit carries every call of the tick). The floor: two empty commits
// on the same file, what the check cost when it committed twice.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BudgetGate, type CallMeter } from '../server/src/agent/budget-gate';
import { SILENT_LOGGER } from '../server/src/agent/logger';
import type { ProviderRequest } from '../server/src/agent/providers/types';
import { coreSkillTools, SkillToolCatalog } from '../server/src/skills/index';
import { openStore } from '../server/src/store/index';
import { costMicros } from '@autoclaw/shared';
import { percentile, round, tempDir, writeFigures } from './support';

const dir = tempDir('autoclaw-bench-budget-');
const store = openStore({ path: join(dir.path, 'gateway.db') });
store.setBudgetCaps({ dailyMicros: 1_000_000_000, monthlyMicros: 10_000_000_000, sessionMicros: 1_000_000_000, dailyTokens: 10_000_000_000, softPercent: 80, timeZone: 'Europe/Berlin' });
const session = store.createSession({ name: 'bench' });
const model = { provider: 'anthropic' as const, model: 'claude-sonnet-4-6' };
const request: ProviderRequest = {
  model: model.model,
  system: 'You are a helpful assistant. '.repeat(100),
  messages: Array.from({ length: 20 }, (_, i) => ({
    role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
    content: [{ type: 'text' as const, text: `message ${i} ${'lorem ipsum dolor sit amet '.repeat(20)}` }],
  })),
  tools: new SkillToolCatalog(coreSkillTools({ store, workspaceDir: dir.path, now: Date.now })).specs(),
  maxTokens: 4_096,
  signal: new AbortController().signal,
};
const usage = { inputTokens: 2_000, outputTokens: 300, cacheReadTokens: 0, cacheWriteTokens: 0 };
const gate = new BudgetGate({ store, bootId: 'bench', logger: SILENT_LOGGER });
const meter: CallMeter = { sessionId: session.id, messageId: null, channel: 'webchat', tool: null };

const samples: number[] = [];
const writes: number[] = [];
async function once(keep: boolean): Promise<void> {
  const t0 = process.hrtime.bigint();
  const id = gate.reserve(model, meter, request);
  const t1 = process.hrtime.bigint();
  // The write the agent awaits before the request (here it carries the previous call's usage row too).
  await store.budgetDurable();
  const t2 = process.hrtime.bigint();
  gate.settle(id, model, meter, usage);
  const t3 = process.hrtime.bigint();
  if (keep) {
    samples.push(Number(t1 - t0 + (t3 - t2)) / 1_000);
    writes.push(Number(t2 - t1) / 1_000);
  }
}

for (let i = 0; i < 2_000; i++) await once(false);
for (let i = 0; i < 20_000; i++) await once(true);
await store.budgetDurable();
// Right after, on the same file: the floor.
const floor: number[] = [];
const raw = new Database(join(dir.path, 'gateway.db'));
raw.pragma('synchronous = NORMAL');
raw.exec('CREATE TABLE bench_floor (id INTEGER PRIMARY KEY, v INTEGER)');
const insert = raw.prepare('INSERT INTO bench_floor (v) VALUES (1)');
const remove = raw.prepare('DELETE FROM bench_floor WHERE id = ?');
const begin = raw.transaction(() => Number(insert.run().lastInsertRowid));
const end = raw.transaction((id: number) => remove.run(id));
const emptyCommits = () => {
  const t0 = process.hrtime.bigint();
  end.immediate(begin.immediate());
  return Number(process.hrtime.bigint() - t0) / 1_000;
};
for (let i = 0; i < 2_000; i++) emptyCommits();
for (let i = 0; i < 20_000; i++) floor.push(emptyCommits());
raw.close();
const status = store.budgetStatus();
if (status.reserved.calls !== 0 || status.day.spentMicros < 20_000 * costMicros(model.provider, model.model, usage)!) throw new Error('reservations were not settled');
store.close();
dir.remove();
writeFigures({
  'budget.check_p50_us': round(percentile(samples, 50), 1),
  'budget.check_p99_us': round(percentile(samples, 99), 1),
  'budget.write_p50_us': round(percentile(writes, 50), 1),
  'budget.write_p99_us': round(percentile(writes, 99), 1),
  'budget.check_floor_p50_us': round(percentile(floor, 50), 1),
  'budget.check_floor_p99_us': round(percentile(floor, 99), 1),
});
