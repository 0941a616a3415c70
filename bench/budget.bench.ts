// budget.check_p99_us: what the budget gate adds around one provider call —
// the worst-case estimate of a realistic request, the reservation (one
// immediate transaction checking daily, monthly, per-session and token caps
// against spend and open reservations) and the settlement (the usage row,
// the running totals and the soft-line check in one transaction) — on a
// gateway.db file in WAL mode, as a gateway uses it. Beside it, the floor:
// two empty commits on the same file (a reservation must commit before the
// call and the settlement after it), so the figure can be read against what
// the machine's SQLite commits cost.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { worstCase } from '../server/src/agent/budget-gate';
import type { ProviderRequest } from '../server/src/agent/providers/types';
import { coreSkillTools, SkillToolCatalog } from '../server/src/skills/index';
import { openStore } from '../server/src/store/index';
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

function once(): number {
  const t0 = process.hrtime.bigint();
  const worst = worstCase(model, request);
  const id = store.reserveBudget({ bootId: 'bench', sessionId: session.id, micros: worst.micros, tokens: worst.tokens });
  store.recordUsage({ sessionId: session.id, messageId: null, provider: model.provider, model: model.model, usage, costMicros: 10_500, channel: 'webchat', tool: null, reservationId: id });
  return Number(process.hrtime.bigint() - t0) / 1_000;
}

for (let i = 0; i < 2_000; i++) once();
const samples: number[] = [];
for (let i = 0; i < 20_000; i++) samples.push(once());
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
if (status.reserved.calls !== 0 || status.day.spentMicros < 20_000 * 10_500) throw new Error('reservations were not settled');
store.close();
dir.remove();
writeFigures({
  'budget.check_p50_us': round(percentile(samples, 50), 1),
  'budget.check_p99_us': round(percentile(samples, 99), 1),
  'budget.check_floor_p50_us': round(percentile(floor, 50), 1),
  'budget.check_floor_p99_us': round(percentile(floor, 99), 1),
});
