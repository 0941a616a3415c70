/** Tool calls of assistant messages, in the order the model made them. */
import { AppError, type ToolCall } from '@autoclaw/shared';
import type { StoreContext } from './context';
import { toToolCall, type ToolCallRow } from './rows';
import type { NewToolCall, Store } from './types';
import { MAX_STORED_TEXT, checkId, checkText, checkToolCallStatus } from './validate';

export type ToolCallQueries = Pick<Store, 'insertToolCalls' | 'updateToolCall' | 'getToolCall'>;

export function toolCallQueries({ db, now }: StoreContext): ToolCallQueries {
  const byId = db.prepare<[string], ToolCallRow>('SELECT * FROM tool_calls WHERE id = ?');
  // Tool calls belong to assistant messages only (hydrate.ts reads none for user messages).
  const messageExists = db.prepare<[string], { one: number }>("SELECT 1 AS one FROM messages WHERE id = ? AND role = 'assistant'");
  const insert = db.prepare<[string, string, string, string, string, number, number, number]>(
    `INSERT INTO tool_calls (id, message_id, name, input, status, result, risky, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?)`,
  );
  const update = db.prepare<[string, number, string | null, number, string]>(
    // The second value says whether the patch carries a result; without one the old result stays.
    'UPDATE tool_calls SET status = ?, result = CASE WHEN ? THEN ? ELSE result END, updated_at = ? WHERE id = ?',
  );

  const insertAll = db.transaction((messageId: string, calls: NewToolCall[]): ToolCall[] => {
    if (!messageExists.get(messageId)) throw new AppError('NOT_FOUND', `assistant message ${messageId} was not found`);
    const at = now();
    const seen = new Set<string>();
    for (const call of calls) {
      if (seen.has(call.id) || byId.get(call.id)) {
        throw new AppError('CONFLICT', `a tool call with id ${call.id} already exists`);
      }
      seen.add(call.id);
      insert.run(call.id, messageId, call.name, call.input, call.status, call.risky ? 1 : 0, at, at);
    }
    return calls.map((call) => toToolCall(byId.get(call.id) as ToolCallRow));
  });

  return {
    insertToolCalls(messageId, calls) {
      if (typeof messageId !== 'string') throw new AppError('NOT_FOUND', 'message was not found');
      if (!Array.isArray(calls)) throw new AppError('BAD_REQUEST', 'tool calls must be a list');
      const checked = calls.map(
        (call): NewToolCall => ({
          id: checkId(call.id, 'tool call id'),
          name: checkText(call.name, 'tool name', 256),
          input: checkText(call.input, 'tool input', MAX_STORED_TEXT, { allowEmpty: true }),
          risky: call.risky === true,
          status: checkToolCallStatus(call.status),
        }),
      );
      return insertAll.immediate(messageId, checked);
    },
    updateToolCall(id, patch) {
      const status = checkToolCallStatus(patch.status);
      const hasResult = patch.result !== undefined;
      const result =
        patch.result === undefined || patch.result === null
          ? null
          : checkText(patch.result, 'tool result', MAX_STORED_TEXT, { allowEmpty: true });
      if (typeof id !== 'string' || update.run(status, hasResult ? 1 : 0, result, now(), id).changes === 0) {
        throw new AppError('NOT_FOUND', `tool call ${String(id)} was not found`);
      }
      return toToolCall(byId.get(id) as ToolCallRow);
    },
    getToolCall(id) {
      if (typeof id !== 'string') return null;
      const row = byId.get(id);
      return row ? toToolCall(row) : null;
    },
  };
}
