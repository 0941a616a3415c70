/** The usage ledger: one row per provider call, kept even when its session is deleted. */
import { AppError, type UsageSummary } from '@autoclaw/shared';
import type { BudgetBook, UsageWrite } from './budget-book';
import type { SpendTracker } from './budget-spend';
import type { StoreContext } from './context';
import type { Store, UsageRecord } from './types';
import { checkCount, checkText, checkTime } from './validate';

export type UsageQueries = Pick<Store, 'recordUsage' | 'settleBudget' | 'usageSummary'>;

export interface SummaryRow {
  calls: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_micros: number;
  unpriced: number;
}

export const SUMMARY_COLUMNS = /* sql */ `
  count(*) AS calls,
  coalesce(sum(input_tokens), 0) AS input_tokens,
  coalesce(sum(output_tokens), 0) AS output_tokens,
  coalesce(sum(cache_read_tokens), 0) AS cache_read_tokens,
  coalesce(sum(cache_write_tokens), 0) AS cache_write_tokens,
  coalesce(sum(cost_micros), 0) AS cost_micros,
  coalesce(sum(cost_micros IS NULL), 0) AS unpriced`;

function toSummary(row: SummaryRow | undefined): UsageSummary {
  return {
    calls: row?.calls ?? 0,
    inputTokens: row?.input_tokens ?? 0,
    outputTokens: row?.output_tokens ?? 0,
    cacheReadTokens: row?.cache_read_tokens ?? 0,
    cacheWriteTokens: row?.cache_write_tokens ?? 0,
    costMicros: row?.cost_micros ?? 0,
    unpricedCalls: row?.unpriced ?? 0,
  };
}

/** What a usage row adds to the running totals. */
function spendOf(row: readonly unknown[]): { micros: number; tokens: number; unpriced: number } {
  const [input, output, cacheRead, cacheWrite, cost] = row.slice(4, 9) as [number, number, number, number, number | null];
  return { micros: cost ?? 0, tokens: input + output + cacheRead + cacheWrite, unpriced: cost === null ? 1 : 0 };
}

export function usageQueries({ db, now }: StoreContext, spend: SpendTracker, book: BudgetBook): UsageQueries {
  // A call that finishes after its session or message was deleted is still a
  // cost: it is recorded with a NULL reference instead of being lost. Usage
  // belongs to assistant messages only (hydrate.ts reads none for user messages).
  const insert = db.prepare<[string, string, string, string, number, number, number, number, number | null, string, string | null, number]>(
    `INSERT INTO usage (session_id, message_id, provider, model, input_tokens, output_tokens,
       cache_read_tokens, cache_write_tokens, cost_micros, channel, tool, created_at)
     VALUES ((SELECT id FROM sessions WHERE id = ?), (SELECT id FROM messages WHERE id = ? AND role = 'assistant'),
       ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const settle = db.prepare<[number]>('DELETE FROM budget_reservations WHERE id = ?');
  type Row = Parameters<typeof insert.run>;
  // The row, the running budget totals and the end of the call's reservation: one commit.
  const writeRow = (row: Row, sessionId: string, reservationRowId: number | undefined) => {
    insert.run(...row);
    if (reservationRowId !== undefined) settle.run(reservationRowId);
    return spend.add(row[11], sessionId, spendOf(row));
  };
  const recordTx = db.transaction((row: Row, sessionId: string, reservationId: number | undefined) =>
    writeRow(row, sessionId, book.settleNow({ at: row[11], sessionId, spend: spendOf(row) }, reservationId)),
  );

  /** A checked row for `record` (BAD_REQUEST before anything is written). */
  function rowOf(record: UsageRecord): { row: Row; sessionId: string; reservationId: number | undefined } {
    const { usage } = record;
    if (typeof usage !== 'object' || usage === null) throw new AppError('BAD_REQUEST', 'usage is missing');
    const cost = record.costMicros === null ? null : checkCount(record.costMicros, 'costMicros');
    const sessionId = typeof record.sessionId === 'string' ? record.sessionId : '';
    const reservationId = record.reservationId === undefined ? undefined : checkCount(record.reservationId, 'reservationId');
    const row: Row = [
      sessionId,
      typeof record.messageId === 'string' ? record.messageId : '',
      checkText(record.provider, 'provider', 64),
      checkText(record.model, 'model', 256),
      checkCount(usage.inputTokens, 'inputTokens'),
      checkCount(usage.outputTokens, 'outputTokens'),
      checkCount(usage.cacheReadTokens, 'cacheReadTokens'),
      checkCount(usage.cacheWriteTokens, 'cacheWriteTokens'),
      cost,
      record.channel === undefined ? 'webchat' : checkText(record.channel, 'channel', 32),
      record.tool === undefined || record.tool === null ? null : checkText(record.tool, 'tool', 256),
      now(),
    ];
    return { row, sessionId, reservationId };
  }
  const all = db.prepare<[], SummaryRow>(`SELECT ${SUMMARY_COLUMNS} FROM usage`);
  const since = db.prepare<[number], SummaryRow>(`SELECT ${SUMMARY_COLUMNS} FROM usage WHERE created_at >= ?`);
  const bySession = db.prepare<[string], SummaryRow>(`SELECT ${SUMMARY_COLUMNS} FROM usage WHERE session_id = ?`);
  const bySessionSince = db.prepare<[string, number], SummaryRow>(
    `SELECT ${SUMMARY_COLUMNS} FROM usage WHERE session_id = ? AND created_at >= ?`,
  );

  return {
    recordUsage(record) {
      const { row, sessionId, reservationId } = rowOf(record);
      try {
        return recordTx.immediate(row, sessionId, reservationId);
      } catch (err) {
        // Rolled back: the book counted what the file does not hold.
        book.invalidate();
        throw err;
      }
    },
    settleBudget(record) {
      const { row, sessionId, reservationId } = rowOf(record);
      const write: UsageWrite = { at: row[11], sessionId, spend: spendOf(row), write: (rowId) => void writeRow(row, sessionId, rowId) };
      return book.settle(write, reservationId);
    },
    usageSummary(opts = {}) {
      const from = opts.since === undefined ? undefined : checkTime(opts.since, 'since');
      if (opts.sessionId !== undefined) {
        if (typeof opts.sessionId !== 'string') return toSummary(undefined);
        return toSummary(from === undefined ? bySession.get(opts.sessionId) : bySessionSince.get(opts.sessionId, from));
      }
      return toSummary(from === undefined ? all.get() : since.get(from));
    },
  };
}
