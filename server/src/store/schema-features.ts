/**
 * Schema versions 7 onwards: skills, costs and budgets, channels. Shipped
 * migrations never change; a new one is appended here and listed in
 * migrations.ts.
 */
/**
 * Standing approvals of risky tools: "for this conversation" (session_id
 * set; gone with the session) or "always for this tool". Revocable.
 */
export const SKILL_APPROVALS = /* sql */ `
CREATE TABLE tool_approvals (
  id          TEXT PRIMARY KEY,
  tool        TEXT NOT NULL,
  scope       TEXT NOT NULL CHECK (scope IN ('session', 'always')),
  session_id  TEXT REFERENCES sessions(id) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  CHECK ((scope = 'session') = (session_id IS NOT NULL))
);
CREATE UNIQUE INDEX tool_approvals_grant ON tool_approvals(tool, scope, ifnull(session_id, ''));
`;

/**
 * Documents skills index for search (the Notes skill's markdown files), in
 * the same FTS5 setup as memories so memory_search finds them too.
 */
export const SKILL_DOCUMENTS = /* sql */ `
CREATE TABLE skill_documents (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  skill       TEXT NOT NULL,
  path        TEXT NOT NULL,
  text        TEXT NOT NULL,
  updated_at  INTEGER NOT NULL,
  UNIQUE (skill, path)
);
CREATE VIRTUAL TABLE skill_documents_fts USING fts5(path, text, content = 'skill_documents', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2');
CREATE TRIGGER skill_documents_ai AFTER INSERT ON skill_documents BEGIN
  INSERT INTO skill_documents_fts(rowid, path, text) VALUES (new.seq, new.path, new.text);
END;
CREATE TRIGGER skill_documents_ad AFTER DELETE ON skill_documents BEGIN
  INSERT INTO skill_documents_fts(skill_documents_fts, rowid, path, text) VALUES ('delete', old.seq, old.path, old.text);
END;
CREATE TRIGGER skill_documents_au AFTER UPDATE ON skill_documents BEGIN
  INSERT INTO skill_documents_fts(skill_documents_fts, rowid, path, text) VALUES ('delete', old.seq, old.path, old.text);
  INSERT INTO skill_documents_fts(rowid, path, text) VALUES (new.seq, new.path, new.text);
END;
`;

/**
 * Costs by tool, and a rollup for the ledger. Each usage row names the
 * tool(s) whose results the call read (null for a direct answer or a context
 * summary). `usage_rollup` holds the same sums per 15 minutes (UTC) and
 * model, session, channel and tool, kept in step by triggers (a deleted
 * session's rows move to '' as their `session_id` becomes NULL). The
 * offsets of today's time zones, and the instants they change, fall on
 * quarter hours, so a quarter lies within one local day and grouping quarters
 * by day is exact; the ledger checks that for the zone and range it is asked
 * about and reads `usage` itself when it does not hold.
 */
const ROLLUP_ADD = (row: 'new' | 'old', sign: '+' | '-') => /* sql */ `
  INSERT INTO usage_rollup (bucket, provider, model, session_id, channel, tool, calls, input_tokens, output_tokens,
    cache_read_tokens, cache_write_tokens, cost_micros, unpriced_calls, unpriced_tokens)
  VALUES (${row}.created_at / 900000, ${row}.provider, ${row}.model, coalesce(${row}.session_id, ''), ${row}.channel, coalesce(${row}.tool, ''),
    ${sign}1, ${sign}${row}.input_tokens, ${sign}${row}.output_tokens, ${sign}${row}.cache_read_tokens, ${sign}${row}.cache_write_tokens,
    ${sign}coalesce(${row}.cost_micros, 0), ${sign}(${row}.cost_micros IS NULL),
    ${sign}(CASE WHEN ${row}.cost_micros IS NULL THEN ${row}.input_tokens + ${row}.output_tokens + ${row}.cache_read_tokens + ${row}.cache_write_tokens ELSE 0 END))
  ON CONFLICT (bucket, provider, model, session_id, channel, tool) DO UPDATE SET
    calls = calls + excluded.calls,
    input_tokens = input_tokens + excluded.input_tokens,
    output_tokens = output_tokens + excluded.output_tokens,
    cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
    cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,
    cost_micros = cost_micros + excluded.cost_micros,
    unpriced_calls = unpriced_calls + excluded.unpriced_calls,
    unpriced_tokens = unpriced_tokens + excluded.unpriced_tokens;`;
const ROLLUP_PRUNE = /* sql */ `
  DELETE FROM usage_rollup WHERE bucket = old.created_at / 900000 AND provider = old.provider AND model = old.model
    AND session_id = coalesce(old.session_id, '') AND channel = old.channel AND tool = coalesce(old.tool, '') AND calls = 0;`;
export const USAGE_ROLLUP = /* sql */ `
ALTER TABLE usage ADD COLUMN tool TEXT;
CREATE TABLE usage_rollup (
  bucket              INTEGER NOT NULL,
  provider            TEXT NOT NULL,
  model               TEXT NOT NULL,
  session_id          TEXT NOT NULL,
  channel             TEXT NOT NULL,
  tool                TEXT NOT NULL,
  calls               INTEGER NOT NULL,
  input_tokens        INTEGER NOT NULL,
  output_tokens       INTEGER NOT NULL,
  cache_read_tokens   INTEGER NOT NULL,
  cache_write_tokens  INTEGER NOT NULL,
  cost_micros         INTEGER NOT NULL,
  unpriced_calls      INTEGER NOT NULL,
  unpriced_tokens     INTEGER NOT NULL,
  PRIMARY KEY (bucket, provider, model, session_id, channel, tool)
) WITHOUT ROWID;
INSERT INTO usage_rollup
  SELECT created_at / 900000, provider, model, coalesce(session_id, ''), channel, '', count(*), sum(input_tokens), sum(output_tokens),
    sum(cache_read_tokens), sum(cache_write_tokens), coalesce(sum(cost_micros), 0), sum(cost_micros IS NULL),
    coalesce(sum(CASE WHEN cost_micros IS NULL THEN input_tokens + output_tokens + cache_read_tokens + cache_write_tokens END), 0)
  FROM usage GROUP BY 1, 2, 3, 4, 5;
CREATE TRIGGER usage_rollup_insert AFTER INSERT ON usage BEGIN ${ROLLUP_ADD('new', '+')} END;
CREATE TRIGGER usage_rollup_update AFTER UPDATE OF created_at, provider, model, session_id, channel, tool, input_tokens, output_tokens,
  cache_read_tokens, cache_write_tokens, cost_micros ON usage
BEGIN ${ROLLUP_ADD('old', '-')} ${ROLLUP_PRUNE} ${ROLLUP_ADD('new', '+')} END;
CREATE TRIGGER usage_rollup_delete AFTER DELETE ON usage BEGIN ${ROLLUP_ADD('old', '-')} ${ROLLUP_PRUNE} END;
`;

/**
 * Hard budgets. `budget_caps` holds the user's caps and the plan's (set by
 * the manager); `budget_reservations` the worst case of every provider call
 * in flight (cleared at start: a reservation never outlives its process);
 * `budget_spend` running totals per day, month and session (a cache of sums
 * over `usage`, filled on first use and kept in step by every usage insert).
 * Reservation ids are plain rowids (no sqlite_sequence write per call): an id
 * may come back once its reservation ended, which is harmless.
 */
export const BUDGETS = /* sql */ `
CREATE TABLE budget_caps (
  scope           TEXT PRIMARY KEY CHECK (scope IN ('user', 'plan')),
  daily_micros    INTEGER CHECK (daily_micros >= 0),
  monthly_micros  INTEGER CHECK (monthly_micros >= 0),
  session_micros  INTEGER CHECK (session_micros >= 0),
  daily_tokens    INTEGER CHECK (daily_tokens >= 0),
  soft_percent    INTEGER CHECK (soft_percent BETWEEN 1 AND 100),
  time_zone       TEXT,
  reason          TEXT,
  updated_at      INTEGER NOT NULL
);
CREATE TABLE budget_reservations (
  id          INTEGER PRIMARY KEY,
  boot_id     TEXT NOT NULL,
  session_id  TEXT,
  micros      INTEGER CHECK (micros >= 0),
  tokens      INTEGER NOT NULL CHECK (tokens >= 0),
  created_at  INTEGER NOT NULL
);
CREATE TABLE budget_spend (
  key       TEXT PRIMARY KEY,
  micros    INTEGER NOT NULL,
  tokens    INTEGER NOT NULL,
  unpriced  INTEGER NOT NULL
);
`;

/**
 * Chat channels: each channel's enabled flag and true state with its history,
 * the platform conversation behind each channel session, the platform id of
 * every inbound message (redeliveries are recognized; replies know what they
 * answer), the outbound queue (nothing queued is lost across a restart), the
 * platform messages made for each answer (a continued answer edits them
 * instead of sending again), approved senders, pending pairings, and small
 * per-channel state (offsets, encrypted link state).
 */
export const CHANNELS = /* sql */ `
CREATE TABLE channels (
  name             TEXT PRIMARY KEY,
  enabled          INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  state            TEXT NOT NULL,
  since            INTEGER,
  last_inbound_at  INTEGER,
  last_error       TEXT,
  updated_at       INTEGER NOT NULL
);
CREATE TABLE channel_state_history (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  channel  TEXT NOT NULL,
  state    TEXT NOT NULL,
  error    TEXT,
  at       INTEGER NOT NULL
);
CREATE INDEX channel_state_history_channel ON channel_state_history(channel, id);
CREATE TABLE channel_conversations (
  session_id  TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
  channel     TEXT NOT NULL,
  route       TEXT NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE TABLE channel_inbound (
  client_id    TEXT PRIMARY KEY,
  channel      TEXT NOT NULL,
  platform_id  TEXT NOT NULL,
  session_id   TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  reply_to     TEXT,
  retried      INTEGER NOT NULL DEFAULT 0 CHECK (retried IN (0, 1)),
  received_at  INTEGER NOT NULL
);
CREATE TABLE channel_outbox (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  key         TEXT NOT NULL UNIQUE,
  channel     TEXT NOT NULL,
  session_id  TEXT,
  kind        TEXT NOT NULL,
  payload     TEXT NOT NULL,
  version     TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
  attempts    INTEGER NOT NULL DEFAULT 0,
  next_at     INTEGER NOT NULL,
  last_error  TEXT,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX channel_outbox_due ON channel_outbox(channel, next_at) WHERE status = 'pending';
CREATE TABLE channel_sent (
  message_id   TEXT NOT NULL,
  part         INTEGER NOT NULL,
  channel      TEXT NOT NULL,
  platform_id  TEXT NOT NULL,
  text_hash    TEXT NOT NULL,
  PRIMARY KEY (message_id, part)
);
CREATE TABLE channel_senders (
  channel      TEXT NOT NULL,
  sender_id    TEXT NOT NULL,
  sender_name  TEXT NOT NULL,
  approved_at  INTEGER NOT NULL,
  PRIMARY KEY (channel, sender_id)
);
CREATE TABLE channel_pairings (
  channel      TEXT NOT NULL,
  sender_id    TEXT NOT NULL,
  sender_name  TEXT NOT NULL,
  code         TEXT NOT NULL,
  route        TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  PRIMARY KEY (channel, sender_id),
  UNIQUE (channel, code)
);
CREATE TABLE channel_kv (
  channel     TEXT NOT NULL,
  key         TEXT NOT NULL,
  value       TEXT NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (channel, key)
);
`;

/**
 * Pooled credits as a plan cap: what AI calls may still cost (before the
 * margin) for usage rows after `credit_after` — the manager's sync cursor,
 * so the gateway counts exactly what the manager has not yet debited.
 */
export const CREDIT_CAP = /* sql */ `
ALTER TABLE budget_caps ADD COLUMN credit_micros INTEGER CHECK (credit_micros >= 0);
ALTER TABLE budget_caps ADD COLUMN credit_after INTEGER CHECK (credit_after >= 0);
`;
