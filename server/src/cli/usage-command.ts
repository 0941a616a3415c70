/**
 * `autoclaw usage --data DIR [--since YYYY-MM-DD] [--by day|model|session] --json`:
 * the ledger, grouped by local day (this machine's time zone), model or
 * session, in integer micro-dollars; unpriced calls are counted apart.
 * Reads the data directory's store (safe while a gateway runs).
 */
import { canonicalTimeZone, formatMicros, parseDayKey, type LedgerGroup, type LedgerRow } from '@autoclaw/shared';
import { parseDataDir, UsageError } from '../gateway';
import { parseFlags } from './args';
import { openExistingStore, withStore } from './data-store';
import type { CliIO } from './io';

const GROUPS: readonly LedgerGroup[] = ['day', 'model', 'session'];

const integer = new Intl.NumberFormat('en-US');

function label(row: LedgerRow, by: LedgerGroup, sessions: Record<string, { title: string }>): string {
  if (by === 'day') return row.day ?? '';
  if (by === 'model') return row.model ?? '';
  return row.sessionId ? `${sessions[row.sessionId]?.title ?? row.sessionId}` : '(deleted conversations)';
}

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values } = parseFlags(args, { data: { type: 'string' }, since: { type: 'string' }, by: { type: 'string' }, json: { type: 'boolean' } });
  const dataDir = parseDataDir(values.data);
  const by = (values.by ?? 'day') as LedgerGroup;
  if (!GROUPS.includes(by)) throw new UsageError(`--by must be one of: ${GROUPS.join(', ')} (got "${String(values.by).slice(0, 20)}")`);
  if (values.since !== undefined && parseDayKey(values.since) === null) {
    throw new UsageError(`--since must be a date YYYY-MM-DD (got "${values.since.slice(0, 20)}")`);
  }
  // Days are this machine's days (the TZ environment variable, else the system's zone).
  const timeZone = canonicalTimeZone(Intl.DateTimeFormat().resolvedOptions().timeZone) ?? 'UTC';
  const ledger = await withStore(openExistingStore(dataDir), (store) =>
    store.usageLedger({ timeZone, by: [by], ...(values.since === undefined ? {} : { from: values.since }) }),
  );
  if (values.json) {
    const out = { timeZone: ledger.timeZone, since: values.since ?? null, by, rows: ledger.rows, total: ledger.total, sessions: ledger.sessions };
    io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  }
  if (ledger.rows.length === 0) {
    io.stdout.write(`No model calls${values.since ? ` since ${values.since}` : ''}.\n`);
    return 0;
  }
  const line = (name: string, r: Omit<LedgerRow, 'day'>) => {
    const tokens = r.inputTokens + r.outputTokens + r.cacheReadTokens + r.cacheWriteTokens;
    const unpriced = r.unpricedCalls > 0 ? ` + ${r.unpricedCalls} unpriced` : '';
    return `${name.padEnd(28)} ${formatMicros(r.costMicros).padStart(10)}${unpriced}  ${integer.format(tokens)} tokens  ${integer.format(r.calls)} calls\n`;
  };
  for (const row of ledger.rows) io.stdout.write(line(label(row, by, ledger.sessions), row));
  io.stdout.write(line(`total (${ledger.timeZone})`, ledger.total));
  return 0;
}
