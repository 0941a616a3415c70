// usage.aggregate_1m_ms: the ledger query behind the Costs page and
// `autoclaw usage`, grouping one million usage rows by local day (Europe/Berlin,
// 90 days across a DST change) and model. Rows are written straight into a
// store's file in one transaction; the query goes through the store.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from '../server/src/store/index';
import { median, round, tempDir, writeFigures } from './support';

const ROWS = 1_000_000;
const DAYS = 90;
const MODELS = ['claude-sonnet-4-6', 'claude-haiku-4-5', 'claude-opus-4-6', 'gpt-4o-mini', 'llama3.1'];

const dir = tempDir('autoclaw-bench-usage-');
const path = join(dir.path, 'gateway.db');
openStore({ path }).close();
const db = new Database(path);
const start = Date.UTC(2026, 1, 1);
const insert = db.prepare(
  `INSERT INTO usage (session_id, message_id, provider, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_micros, channel, tool, created_at)
   VALUES (NULL, NULL, ?, ?, ?, ?, 0, 0, ?, 'webchat', NULL, ?)`,
);
db.transaction(() => {
  for (let i = 0; i < ROWS; i++) {
    const model = MODELS[i % MODELS.length]!;
    const at = start + Math.floor((i / ROWS) * DAYS * 86_400_000);
    insert.run(model.startsWith('gpt') ? 'openai' : model.startsWith('llama') ? 'openai-compatible' : 'anthropic', model, 1_000 + (i % 500), 200, model.startsWith('llama') ? null : 3_000 + (i % 97), at);
  }
})();
db.close();

/** Median of 5 runs of the day × model query; the product reads the quarter-hour rollup, `raw` every row. */
function measure(ledgerRollup: boolean): number {
  const store = openStore({ path, ledgerRollup });
  const times: number[] = [];
  for (let run = 0; run < 5; run++) {
    const t0 = performance.now();
    const ledger = store.usageLedger({ timeZone: 'Europe/Berlin', by: ['day', 'model'] });
    times.push(performance.now() - t0);
    if (ledger.total.calls !== ROWS || ledger.rows.length !== (DAYS + 1) * MODELS.length) {
      throw new Error(`counted ${ledger.total.calls} calls in ${ledger.rows.length} groups`);
    }
  }
  store.close();
  console.log(`${ledgerRollup ? 'rollup' : 'raw'}: ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
  return round(median(times), 1);
}
const figures = { 'usage.aggregate_1m_ms': measure(true), 'usage.aggregate_1m_raw_ms': measure(false) };
dir.remove();
writeFigures(figures);
