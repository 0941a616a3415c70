/**
 * What channel delivery keeps: the platform conversation of each channel
 * session, inbound platform ids, the outbound queue and the platform messages
 * made for each answer.
 */
import { AppError, type Message } from '@autoclaw/shared';
import type { ChannelStore, InboundRecord, OutboundRow, OutboundStatus } from './channel-types';
import { checkChannelName } from './channels';
import type { StoreContext } from './context';
import type { Hydrate } from './hydrate';
import type { MessageRow } from './rows';
import { checkClientId, checkCount, checkId, checkLimit, checkText, checkTime } from './validate';

export type ChannelDeliveryQueries = Pick<
  ChannelStore,
  | 'setConversation'
  | 'getConversation'
  | 'recordInbound'
  | 'getInbound'
  | 'hasClientMessage'
  | 'channelTurnsToResume'
  | 'markInboundRetried'
  | 'enqueueOutbound'
  | 'dueOutbound'
  | 'nextOutboundAt'
  | 'markOutbound'
  | 'getOutbound'
  | 'undeliveredAnswers'
  | 'pruneOutbound'
  | 'sentParts'
  | 'recordSentPart'
>;

interface OutboundDbRow {
  id: number;
  key: string;
  channel: string;
  session_id: string | null;
  kind: string;
  payload: string;
  version: string;
  status: OutboundStatus;
  attempts: number;
  next_at: number;
  last_error: string | null;
  created_at: number;
}

const OUTBOUND_STATUSES = new Set<string>(['pending', 'sent', 'failed']);
const PAYLOAD_CHARS = 1_000_000;

function toOutbound(row: OutboundDbRow): OutboundRow {
  return {
    id: row.id,
    key: row.key,
    channel: row.channel,
    sessionId: row.session_id,
    kind: row.kind,
    payload: row.payload,
    version: row.version,
    status: row.status,
    attempts: row.attempts,
    nextAt: row.next_at,
    lastError: row.last_error,
    createdAt: row.created_at,
  };
}

export function channelDeliveryQueries({ db, now }: StoreContext, hydrate: Hydrate): ChannelDeliveryQueries {
  const putConversation = db.prepare<[string, string, string, number]>(
    `INSERT INTO channel_conversations (session_id, channel, route, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT(session_id) DO UPDATE SET route = excluded.route, updated_at = excluded.updated_at
     WHERE channel_conversations.route <> excluded.route`,
  );
  const conversation = db.prepare<[string], { channel: string; route: string }>(
    'SELECT channel, route FROM channel_conversations WHERE session_id = ?',
  );
  const insertInbound = db.prepare<[string, string, string, string, string | null, number]>(
    `INSERT INTO channel_inbound (client_id, channel, platform_id, session_id, reply_to, received_at)
     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(client_id) DO NOTHING`,
  );
  const inbound = db.prepare<[string], { client_id: string; channel: string; platform_id: string; session_id: string; reply_to: string | null }>(
    'SELECT client_id, channel, platform_id, session_id, reply_to FROM channel_inbound WHERE client_id = ?',
  );
  const clientMessage = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM messages WHERE client_id = ?');
  // Interrupted by an unclean stop (no error) or a graceful one (CANCELLED), not yet retried.
  const toResume = db.prepare<[], MessageRow>(
    `SELECT m.* FROM channel_inbound i JOIN messages m ON m.client_id = i.client_id
     WHERE i.retried = 0 AND m.role = 'user' AND m.status = 'interrupted'
       AND (m.error_code IS NULL OR m.error_code = 'CANCELLED')
     ORDER BY m.seq`,
  );
  const retried = db.prepare<[string]>('UPDATE channel_inbound SET retried = 1 WHERE client_id = ?');

  const insertOutbound = db.prepare<[string, string, string | null, string, string, string, number, number, number]>(
    `INSERT INTO channel_outbox (key, channel, session_id, kind, payload, version, status, next_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)
     ON CONFLICT(key) DO UPDATE SET payload = excluded.payload, version = excluded.version, status = 'pending',
       attempts = 0, next_at = excluded.next_at, last_error = NULL, updated_at = excluded.updated_at
     WHERE channel_outbox.version <> excluded.version`,
  );
  const due = db.prepare<[string, number, number], OutboundDbRow>(
    "SELECT * FROM channel_outbox WHERE channel = ? AND status = 'pending' AND next_at <= ? ORDER BY id LIMIT ?",
  );
  const nextDue = db.prepare<[string], { at: number | null }>(
    "SELECT min(next_at) AS at FROM channel_outbox WHERE channel = ? AND status = 'pending'",
  );
  const mark = db.prepare<[string, number, number, string | null, number, number]>(
    'UPDATE channel_outbox SET status = ?, attempts = ?, next_at = ?, last_error = ?, updated_at = ? WHERE id = ?',
  );
  const byKey = db.prepare<[string], OutboundDbRow>('SELECT * FROM channel_outbox WHERE key = ?');
  // Ended answers of turns a channel started, whose final delivery is missing
  // or was queued for an older version of the text.
  const undelivered = db.prepare<[number], MessageRow>(
    `SELECT m.* FROM channel_conversations c
       JOIN messages m ON m.session_id = c.session_id
       JOIN messages u ON u.id = m.turn_id
       JOIN channel_inbound i ON i.client_id = u.client_id
     WHERE m.role = 'assistant' AND m.text <> '' AND m.updated_at >= ?
       AND m.status IN ('done', 'interrupted', 'failed', 'cancelled')
       AND u.status NOT IN ('queued', 'running')
       AND NOT EXISTS (SELECT 1 FROM channel_outbox o WHERE o.key = 'final:' || m.id AND o.version = CAST(m.updated_at AS TEXT))
     ORDER BY m.seq`,
  );
  const pruneRows = db.prepare<[number]>("DELETE FROM channel_outbox WHERE status IN ('sent', 'failed') AND updated_at < ?");
  const pruneParts = db.prepare<[]>('DELETE FROM channel_sent WHERE message_id NOT IN (SELECT id FROM messages)');
  const parts = db.prepare<[string], { part: number; platform_id: string; text_hash: string }>(
    'SELECT part, platform_id, text_hash FROM channel_sent WHERE message_id = ? ORDER BY part',
  );
  const putPart = db.prepare<[string, number, string, string, string]>(
    `INSERT INTO channel_sent (message_id, part, channel, platform_id, text_hash) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT(message_id, part) DO UPDATE SET platform_id = excluded.platform_id, text_hash = excluded.text_hash`,
  );

  const prune = db.transaction((before: number) => pruneRows.run(before).changes + pruneParts.run().changes);

  return {
    setConversation(sessionId, channel, route) {
      putConversation.run(checkId(sessionId, 'session id'), checkChannelName(channel), checkText(route, 'route', 10_000), now());
    },
    getConversation(sessionId) {
      return conversation.get(sessionId) ?? null;
    },
    recordInbound(record) {
      insertInbound.run(
        checkClientId(record.clientId),
        checkChannelName(record.channel),
        checkText(record.platformId, 'platform id', 500),
        checkId(record.sessionId, 'session id'),
        record.replyTo === null ? null : checkText(record.replyTo, 'reply-to id', 500),
        now(),
      );
    },
    getInbound(clientId): InboundRecord | null {
      const row = inbound.get(clientId);
      return row
        ? { clientId: row.client_id, channel: row.channel, platformId: row.platform_id, sessionId: row.session_id, replyTo: row.reply_to }
        : null;
    },
    hasClientMessage: (clientId) => clientMessage.get(clientId) !== undefined,
    channelTurnsToResume: (): Message[] => hydrate(toResume.all()),
    markInboundRetried(clientId) {
      retried.run(clientId);
    },
    enqueueOutbound(row) {
      const at = now();
      const nextAt = row.nextAt === undefined ? at : checkTime(row.nextAt, 'nextAt');
      return (
        insertOutbound.run(
          checkText(row.key, 'outbound key', 200),
          checkChannelName(row.channel),
          row.sessionId,
          checkText(row.kind, 'outbound kind', 40),
          checkText(row.payload, 'outbound payload', PAYLOAD_CHARS),
          checkText(row.version, 'outbound version', 100),
          nextAt,
          at,
          at,
        ).changes > 0
      );
    },
    dueOutbound(channel, at, limit) {
      return due.all(channel, at, checkLimit(limit)).map(toOutbound);
    },
    nextOutboundAt(channel) {
      return nextDue.get(channel)?.at ?? null;
    },
    markOutbound(id, patch) {
      if (!OUTBOUND_STATUSES.has(patch.status)) throw new AppError('BAD_REQUEST', 'unknown outbound status');
      mark.run(patch.status, checkCount(patch.attempts, 'attempts'), checkTime(patch.nextAt, 'nextAt'), patch.lastError, now(), id);
    },
    getOutbound(key) {
      const row = byKey.get(key);
      return row ? toOutbound(row) : null;
    },
    undeliveredAnswers: (since) => hydrate(undelivered.all(checkTime(since, 'since'))),
    pruneOutbound: (before) => prune.immediate(checkTime(before, 'before')),
    sentParts(messageId) {
      return parts.all(messageId).map((row) => ({ part: row.part, platformId: row.platform_id, textHash: row.text_hash }));
    },
    recordSentPart(messageId, channel, part) {
      putPart.run(
        checkText(messageId, 'message id', 200),
        checkCount(part.part, 'part'),
        checkChannelName(channel),
        checkText(part.platformId, 'platform id', 500),
        checkText(part.textHash, 'text hash', 100),
      );
    },
  };
}
