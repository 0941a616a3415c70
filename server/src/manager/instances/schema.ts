/** The instances part's tables in the manager database (migrated with migratePart). */
import { INSTANCE_STATES } from '@autoclaw/shared';
import { migratePart } from '../db';
import type { ManagerDb } from '../db';

export const INSTANCES_PART = 'instances';

const STATES = INSTANCE_STATES.map((s) => `'${s}'`).join(', ');

const V1 = /* sql */ `
CREATE TABLE instances (
  id               TEXT PRIMARY KEY,
  owner            TEXT NOT NULL UNIQUE,
  state            TEXT NOT NULL CHECK (state IN (${STATES})),
  driver           TEXT NOT NULL,
  url              TEXT,
  pid              INTEGER,
  port             INTEGER,
  -- The instance's data key, wrapped (AES-256-GCM) by the manager's master key.
  wrapped_key      TEXT NOT NULL,
  memory_limit_mb  INTEGER NOT NULL,
  restarts         INTEGER NOT NULL DEFAULT 0,
  last_error       TEXT,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
);

-- Every transition and supervisor action, shown to the user; gone with the instance.
CREATE TABLE instance_events (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id  TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  at           INTEGER NOT NULL,
  kind         TEXT NOT NULL,
  from_state   TEXT,
  to_state     TEXT,
  message      TEXT NOT NULL,
  log_lines    TEXT
);
CREATE INDEX instance_events_instance ON instance_events(instance_id, id);
`;

export const INSTANCES_MIGRATIONS: readonly string[] = [V1];

export function migrateInstances(db: ManagerDb): void {
  migratePart(db, INSTANCES_PART, INSTANCES_MIGRATIONS);
}
