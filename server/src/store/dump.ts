/**
 * A deterministic text image of every table, ordered by primary key. Tests
 * compare two dumps to prove that refused input changed nothing.
 */
import type { Db } from './connection';
import { schemaVersion } from './migrations';

const TABLES: ReadonlyArray<readonly [table: string, key: string]> = [
  ['sessions', 'id'],
  ['messages', 'seq'],
  ['tool_calls', 'seq'],
  ['usage', 'id'],
  ['memories', 'seq'],
  ['summaries', 'id'],
  ['devices', 'id'],
  ['pairing_codes', 'code_hash'],
  ['settings', 'key'],
  ['used_tickets', 'jti'],
  ['audit_log', 'seq'],
  ['usage_rollup', 'bucket, provider, model, session_id, channel, tool'],
  ['budget_caps', 'scope'],
  ['budget_reservations', 'id'],
  ['budget_spend', 'key'],
  ['channels', 'name'],
  ['channel_state_history', 'id'],
  ['channel_conversations', 'session_id'],
  ['channel_inbound', 'client_id'],
  ['channel_outbox', 'id'],
  ['channel_sent', 'message_id, part'],
  ['channel_senders', 'channel, sender_id'],
  ['channel_pairings', 'channel, sender_id'],
  ['channel_kv', 'channel, key'],
];

export function dumpDatabase(db: Db): string {
  const read = db.transaction((): string => {
    const lines = [`user_version ${schemaVersion(db)}`];
    for (const [table, key] of TABLES) {
      lines.push(`[${table}]`);
      for (const row of db.prepare(`SELECT * FROM ${table} ORDER BY ${key}`).all()) lines.push(JSON.stringify(row));
    }
    return `${lines.join('\n')}\n`;
  });
  return read();
}
