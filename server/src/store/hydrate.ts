/**
 * Turns message rows into Messages with their tool calls and usage, in two
 * extra queries whatever the number of messages: for a slice of one session
 * by seq range (index joins), otherwise by the ids as one JSON array. Tool
 * calls and usage belong to assistant messages only (tool-calls.ts and
 * usage.ts refuse others), so user messages alone need no extra query: a
 * turn reads and updates its user message several times.
 */
import type { Message, ToolCall, Usage } from '@autoclaw/shared';
import type { StoreContext } from './context';
import {
  TOOL_CALL_COLUMNS,
  toMessage,
  toToolCall,
  toUsage,
  toolCallRowOf,
  type MessageRow,
  type ToolCallTuple,
  type UsageAggregateRow,
} from './rows';

/** The rows are all of one session with seq in [fromSeq, toSeq]. */
export interface SessionSlice {
  sessionId: string;
  fromSeq: number;
  toSeq: number;
}

export type Hydrate = (rows: MessageRow[], slice?: SessionSlice) => Message[];

// `provider, model` next to max(id): SQLite takes bare columns of an
// aggregate from the row holding the max, i.e. the message's newest usage row.
const USAGE_COLUMNS = /* sql */ `
  u.message_id, u.provider, u.model,
  sum(u.input_tokens), sum(u.output_tokens), sum(u.cache_read_tokens), sum(u.cache_write_tokens),
  sum(u.cost_micros), sum(u.cost_micros IS NULL), max(u.id)`;
type UsageTuple = [string, string, string, number, number, number, number, number | null, number, number];

function usageRowOf(t: UsageTuple): UsageAggregateRow {
  return {
    message_id: t[0],
    provider: t[1],
    model: t[2],
    input_tokens: t[3],
    output_tokens: t[4],
    cache_read_tokens: t[5],
    cache_write_tokens: t[6],
    cost_micros: t[7],
    unpriced: t[8],
  };
}

const TC_COLUMNS = TOOL_CALL_COLUMNS.split(', ')
  .map((column) => `tc.${column}`)
  .join(', ');
const IN_SLICE = 'm.session_id = ? AND m.seq >= ? AND m.seq <= ?';
const IN_IDS = 'm.id IN (SELECT value FROM json_each(?))';

export function createHydrate({ db }: StoreContext): Hydrate {
  const callsQuery = (where: string) =>
    db
      .prepare<unknown[], ToolCallTuple>(
        `SELECT ${TC_COLUMNS} FROM messages m JOIN tool_calls tc ON tc.message_id = m.id WHERE ${where} ORDER BY tc.seq`,
      )
      .raw(true);
  const usageQuery = (where: string) =>
    db
      .prepare<unknown[], UsageTuple>(
        `SELECT ${USAGE_COLUMNS} FROM messages m JOIN usage u ON u.message_id = m.id WHERE ${where} GROUP BY u.message_id`,
      )
      .raw(true);
  const callsOfSlice = callsQuery(IN_SLICE);
  const usageOfSlice = usageQuery(IN_SLICE);
  const callsOfIds = callsQuery(IN_IDS);
  const usageOfIds = usageQuery(IN_IDS);
  const callsOfOne = callsQuery('m.id = ?');
  const usageOfOne = usageQuery('m.id = ?');

  return (rows, slice) => {
    if (rows.length === 0) return [];
    if (rows.every((row) => row.role === 'user')) return rows.map((row) => toMessage(row, [], null));
    let args: unknown[];
    let calls = callsOfIds;
    let usage = usageOfIds;
    if (rows.length === 1) {
      args = [(rows[0] as MessageRow).id];
      calls = callsOfOne;
      usage = usageOfOne;
    } else if (slice) {
      args = [slice.sessionId, slice.fromSeq, slice.toSeq];
      calls = callsOfSlice;
      usage = usageOfSlice;
    } else {
      args = [JSON.stringify(rows.map((row) => row.id))];
    }
    const callsByMessage = new Map<string, ToolCall[]>();
    for (const tuple of calls.all(...args)) {
      const call = toToolCall(toolCallRowOf(tuple));
      const list = callsByMessage.get(call.messageId);
      if (list) list.push(call);
      else callsByMessage.set(call.messageId, [call]);
    }
    const usageByMessage = new Map<string, Usage>();
    for (const tuple of usage.all(...args)) usageByMessage.set(tuple[0], toUsage(usageRowOf(tuple)));
    return rows.map((row) => toMessage(row, callsByMessage.get(row.id) ?? [], usageByMessage.get(row.id) ?? null));
  };
}
