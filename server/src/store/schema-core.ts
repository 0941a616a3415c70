/**
 * The store's first schema versions (1–6): sessions, messages, devices,
 * usage, settings, tickets, notices, roles and the audit log. Shipped
 * migrations never change; new ones go in schema-features.ts.
 */
export const V1 = /* sql */ `
CREATE TABLE sessions (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  title       TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);

-- seq is the rowid: the global insertion order. AUTOINCREMENT so a deleted
-- newest message's seq is never handed out again (clients page by seq).
CREATE TABLE messages (
  seq            INTEGER PRIMARY KEY AUTOINCREMENT,
  id             TEXT NOT NULL UNIQUE,
  session_id     TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  role           TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
  text           TEXT NOT NULL,
  client_id      TEXT UNIQUE,
  turn_id        TEXT,
  status         TEXT NOT NULL,
  error_code     TEXT,
  error_message  TEXT,
  model          TEXT,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);
CREATE INDEX messages_session_seq ON messages(session_id, seq);
CREATE INDEX messages_turn ON messages(turn_id, seq) WHERE turn_id IS NOT NULL;
-- Small partial indexes for the busy flag, the turn queue and recovery.
CREATE INDEX messages_queued ON messages(session_id, seq) WHERE role = 'user' AND status = 'queued';
CREATE INDEX messages_running ON messages(session_id) WHERE role = 'user' AND status = 'running';
CREATE INDEX messages_streaming ON messages(seq) WHERE status = 'streaming';

CREATE TABLE tool_calls (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  id          TEXT NOT NULL UNIQUE,
  message_id  TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  input       TEXT NOT NULL,
  status      TEXT NOT NULL,
  result      TEXT,
  risky       INTEGER NOT NULL CHECK (risky IN (0, 1)),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX tool_calls_message ON tool_calls(message_id, seq);
CREATE INDEX tool_calls_open ON tool_calls(seq) WHERE status IN ('pending', 'running', 'awaiting_approval');

-- Costs are history: deleting a session or message keeps its usage rows.
CREATE TABLE usage (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id          TEXT REFERENCES sessions(id) ON DELETE SET NULL,
  message_id          TEXT REFERENCES messages(id) ON DELETE SET NULL,
  provider            TEXT NOT NULL,
  model               TEXT NOT NULL,
  input_tokens        INTEGER NOT NULL,
  output_tokens       INTEGER NOT NULL,
  cache_read_tokens   INTEGER NOT NULL,
  cache_write_tokens  INTEGER NOT NULL,
  cost_micros         INTEGER,
  created_at          INTEGER NOT NULL
);
CREATE INDEX usage_message ON usage(message_id) WHERE message_id IS NOT NULL;
CREATE INDEX usage_session ON usage(session_id, created_at);
CREATE INDEX usage_created ON usage(created_at);

CREATE TABLE memories (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  id          TEXT NOT NULL UNIQUE,
  text        TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);
-- External-content FTS5 index over memories.text, kept in step by triggers.
CREATE VIRTUAL TABLE memories_fts USING fts5(text, content = 'memories', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2');
CREATE TRIGGER memories_ai AFTER INSERT ON memories BEGIN
  INSERT INTO memories_fts(rowid, text) VALUES (new.seq, new.text);
END;
CREATE TRIGGER memories_ad AFTER DELETE ON memories BEGIN
  INSERT INTO memories_fts(memories_fts, rowid, text) VALUES ('delete', old.seq, old.text);
END;
CREATE TRIGGER memories_au AFTER UPDATE ON memories BEGIN
  INSERT INTO memories_fts(memories_fts, rowid, text) VALUES ('delete', old.seq, old.text);
  INSERT INTO memories_fts(rowid, text) VALUES (new.seq, new.text);
END;

CREATE TABLE summaries (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  upto_seq    INTEGER NOT NULL,
  text        TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE INDEX summaries_session ON summaries(session_id, upto_seq);

CREATE TABLE devices (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  kind          TEXT NOT NULL CHECK (kind IN ('operator', 'client', 'manager')),
  public_key    TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  last_seen_at  INTEGER,
  revoked_at    INTEGER
);

-- Only the SHA-256 of a pairing code is stored.
CREATE TABLE pairing_codes (
  code_hash   TEXT PRIMARY KEY,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER
);

CREATE TABLE settings (
  key         TEXT PRIMARY KEY,
  value       TEXT NOT NULL,
  updated_at  INTEGER NOT NULL
);
`;

/** Pairing tickets already redeemed (single use); a row may go once its ticket expired. */
export const V2 = /* sql */ `
CREATE TABLE used_tickets (
  jti         TEXT PRIMARY KEY,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER NOT NULL
);
CREATE INDEX used_tickets_expiry ON used_tickets(expires_at);
`;

/**
 * Where a session's messages come from and go to: 'webchat' (the control
 * plane: WebChat, the desktop app, the CLI) or a chat channel's name. Usage
 * rows keep the channel of their call, so costs per channel survive a
 * deleted session.
 */
export const V3 = /* sql */ `
ALTER TABLE sessions ADD COLUMN channel TEXT NOT NULL DEFAULT 'webchat';
ALTER TABLE usage ADD COLUMN channel TEXT NOT NULL DEFAULT 'webchat';
CREATE INDEX usage_channel ON usage(channel, created_at);
`;

/** Notices for the user (budget lines, channel states, …); `key` makes a notice once-only. */
export const V4 = /* sql */ `
CREATE TABLE notices (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  id          TEXT NOT NULL UNIQUE,
  kind        TEXT NOT NULL,
  level       TEXT NOT NULL CHECK (level IN ('info', 'warning', 'error')),
  title       TEXT NOT NULL,
  body        TEXT NOT NULL,
  key         TEXT UNIQUE,
  created_at  INTEGER NOT NULL,
  read_at     INTEGER
);
CREATE INDEX notices_unread ON notices(seq) WHERE read_at IS NULL;
`;

/**
 * Device roles: 'owner' devices change settings and devices, 'chat' devices
 * only chat. Devices paired before roles existed are owners. A pairing code
 * carries the role it pairs with; NULL lets pairing decide (owner for the
 * first client device, chat after that).
 */
export const V5 = /* sql */ `
ALTER TABLE devices ADD COLUMN role TEXT NOT NULL DEFAULT 'owner' CHECK (role IN ('owner', 'chat'));
ALTER TABLE pairing_codes ADD COLUMN role TEXT CHECK (role IN ('owner', 'chat'));
`;

/**
 * The gateway's audit log: who changed which setting or device, and when.
 * Append-only (triggers refuse UPDATE and DELETE); never a secret value.
 */
export const V6 = /* sql */ `
CREATE TABLE audit_log (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  at         INTEGER NOT NULL,
  device_id  TEXT,
  action     TEXT NOT NULL,
  target     TEXT NOT NULL,
  old_value  TEXT,
  new_value  TEXT,
  detail     TEXT
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
  SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN
  SELECT RAISE(ABORT, 'the audit log is append-only');
END;
`;
