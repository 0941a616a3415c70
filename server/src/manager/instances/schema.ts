/** The instances part's tables in the manager database (migrated with migratePart). */
import type { Generated } from 'kysely';
import { INSTANCE_STATES } from '@autoclaw/shared';
import type { InstanceDriverKind, InstanceEventKind, InstanceState } from '@autoclaw/shared';
import { migratePart } from '../db';
import type { ManagerDb, Migration } from '../db';

export const INSTANCES_PART = 'instances';

export interface InstancesTable {
  id: string;
  owner: string;
  state: InstanceState;
  driver: InstanceDriverKind;
  url: string | null;
  pid: number | null;
  port: number | null;
  /** The instance's data key, wrapped (AES-256-GCM) by the manager's master key. */
  wrapped_key: string;
  memory_limit_mb: number;
  restarts: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  /** JSON array of the browser origins its gateway was launched with (null: not known). */
  origins: string | null;
  /** JSON array of the channels that keep it awake, as its gateway last said (null: none known). */
  keep_awake: string | null;
  /** 1 for the account's primary instance (exactly one per owner), 0 for its others. */
  is_primary: number;
}

export interface InstanceEventsTable {
  id: Generated<number>;
  instance_id: string;
  at: number;
  kind: InstanceEventKind;
  from_state: InstanceState | null;
  to_state: InstanceState | null;
  message: string;
  log_lines: string | null;
}

/** Every pairing ticket issued: which device key was let in to which instance (sign-in recognises paired devices by it). */
export interface PairingTicketsTable {
  jti: string;
  instance_id: string;
  device_id: string;
  device_public_key: string;
  device_name: string;
  issued_at: number;
  expires_at: number;
  /** When the device was revoked (null while it may use the instance). */
  revoked_at: number | null;
}

declare module '../db/types' {
  interface ManagerTables {
    instances: InstancesTable;
    instance_events: InstanceEventsTable;
    pairing_tickets: PairingTicketsTable;
  }
}

const STATES = INSTANCE_STATES.map((s) => `'${s}'`).join(', ');

const V1: Migration = (w) => [
  `CREATE TABLE instances (
     id               TEXT PRIMARY KEY,
     owner            TEXT NOT NULL UNIQUE,
     state            TEXT NOT NULL CHECK (state IN (${STATES})),
     driver           TEXT NOT NULL,
     url              TEXT,
     pid              INTEGER,
     port             INTEGER,
     wrapped_key      TEXT NOT NULL,
     memory_limit_mb  INTEGER NOT NULL,
     restarts         INTEGER NOT NULL DEFAULT 0,
     last_error       TEXT,
     created_at       ${w.int} NOT NULL,
     updated_at       ${w.int} NOT NULL
   )`,
  // Every transition and supervisor action, shown to the user; gone with the instance.
  `CREATE TABLE instance_events (
     id           ${w.autoId},
     instance_id  TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
     at           ${w.int} NOT NULL,
     kind         TEXT NOT NULL,
     from_state   TEXT,
     to_state     TEXT,
     message      TEXT NOT NULL,
     log_lines    TEXT
   )`,
  'CREATE INDEX instance_events_instance ON instance_events(instance_id, id)',
];

/** The origins a gateway was launched with, so one launched for another manager address is re-launched. */
const V2: Migration = () => ['ALTER TABLE instances ADD COLUMN origins TEXT'];

/** Pairing tickets in the database: any replica issues them, and a paired device is known to every replica. */
const V3: Migration = (w) => [
  `CREATE TABLE pairing_tickets (
     jti                TEXT PRIMARY KEY,
     instance_id        TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
     device_id          TEXT NOT NULL,
     device_public_key  TEXT NOT NULL,
     device_name        TEXT NOT NULL,
     issued_at          ${w.int} NOT NULL,
     expires_at         ${w.int} NOT NULL,
     revoked_at         ${w.int}
   )`,
  'CREATE INDEX pairing_tickets_key ON pairing_tickets(device_public_key)',
  'CREATE INDEX pairing_tickets_device ON pairing_tickets(instance_id, device_id)',
];

/**
 * Sleep and wake: the state `sleeping` joins the CHECK of the state column,
 * and `keep_awake` records the channels that keep an instance awake.
 * PostgreSQL swaps the constraint; SQLite cannot alter a CHECK, so the three
 * tables are rebuilt (children first, so dropping the old parent cascades
 * to nothing; renaming the new parent renames their references with it).
 */
const V4: Migration = (w) => {
  if (w.engine === 'postgres') {
    return [
      'ALTER TABLE instances DROP CONSTRAINT IF EXISTS instances_state_check',
      `ALTER TABLE instances ADD CONSTRAINT instances_state_check CHECK (state IN (${STATES}))`,
      'ALTER TABLE instances ADD COLUMN keep_awake TEXT',
    ];
  }
  const columns = 'id, owner, state, driver, url, pid, port, wrapped_key, memory_limit_mb, restarts, last_error, created_at, updated_at, origins';
  return [
    `CREATE TABLE instances_v4 (
       id               TEXT PRIMARY KEY,
       owner            TEXT NOT NULL UNIQUE,
       state            TEXT NOT NULL CHECK (state IN (${STATES})),
       driver           TEXT NOT NULL,
       url              TEXT,
       pid              INTEGER,
       port             INTEGER,
       wrapped_key      TEXT NOT NULL,
       memory_limit_mb  INTEGER NOT NULL,
       restarts         INTEGER NOT NULL DEFAULT 0,
       last_error       TEXT,
       created_at       ${w.int} NOT NULL,
       updated_at       ${w.int} NOT NULL,
       origins          TEXT,
       keep_awake       TEXT
     )`,
    `INSERT INTO instances_v4 (${columns}) SELECT ${columns} FROM instances`,
    `CREATE TABLE instance_events_v4 (
       id           ${w.autoId},
       instance_id  TEXT NOT NULL REFERENCES instances_v4(id) ON DELETE CASCADE,
       at           ${w.int} NOT NULL,
       kind         TEXT NOT NULL,
       from_state   TEXT,
       to_state     TEXT,
       message      TEXT NOT NULL,
       log_lines    TEXT
     )`,
    'INSERT INTO instance_events_v4 (id, instance_id, at, kind, from_state, to_state, message, log_lines) SELECT id, instance_id, at, kind, from_state, to_state, message, log_lines FROM instance_events',
    `CREATE TABLE pairing_tickets_v4 (
       jti                TEXT PRIMARY KEY,
       instance_id        TEXT NOT NULL REFERENCES instances_v4(id) ON DELETE CASCADE,
       device_id          TEXT NOT NULL,
       device_public_key  TEXT NOT NULL,
       device_name        TEXT NOT NULL,
       issued_at          ${w.int} NOT NULL,
       expires_at         ${w.int} NOT NULL,
       revoked_at         ${w.int}
     )`,
    'INSERT INTO pairing_tickets_v4 SELECT jti, instance_id, device_id, device_public_key, device_name, issued_at, expires_at, revoked_at FROM pairing_tickets',
    'DROP TABLE pairing_tickets',
    'DROP TABLE instance_events',
    'DROP TABLE instances',
    'ALTER TABLE instances_v4 RENAME TO instances',
    'ALTER TABLE instance_events_v4 RENAME TO instance_events',
    'ALTER TABLE pairing_tickets_v4 RENAME TO pairing_tickets',
    'CREATE INDEX instance_events_instance ON instance_events(instance_id, id)',
    'CREATE INDEX pairing_tickets_key ON pairing_tickets(device_public_key)',
    'CREATE INDEX pairing_tickets_device ON pairing_tickets(instance_id, device_id)',
  ];
};

/**
 * Several instances per account (a backup restored into a new one): the
 * owner is no longer unique; `is_primary` marks the one the account uses
 * (the door, instances.mine), at most one per owner by a partial unique
 * index. Existing rows are their account's only instance, so primary.
 * SQLite cannot drop a column's UNIQUE: the tables are rebuilt as in V4.
 */
const V5_SEVERAL: Migration = (w) => {
  const indexes = ['CREATE UNIQUE INDEX instances_one_primary ON instances(owner) WHERE is_primary = 1', 'CREATE INDEX instances_owner ON instances(owner)'];
  if (w.engine === 'postgres') {
    return ['ALTER TABLE instances DROP CONSTRAINT IF EXISTS instances_owner_key', 'ALTER TABLE instances ADD COLUMN is_primary INTEGER NOT NULL DEFAULT 1', ...indexes];
  }
  const v4 = V4(w);
  // V4's rebuild with the owner's UNIQUE gone and the new column (its copies keep every row and id).
  return [
    ...v4
      .filter((s) => !s.startsWith('CREATE INDEX'))
      .map((s) => s.replace('owner            TEXT NOT NULL UNIQUE,', 'owner            TEXT NOT NULL,').replace('keep_awake       TEXT\n', 'keep_awake       TEXT,\n       is_primary       INTEGER NOT NULL DEFAULT 1\n').replaceAll('_v4', '_v5'))
      .map((s) => (s.startsWith('INSERT INTO instances_v5') ? s.replaceAll('origins', 'origins, keep_awake') : s)),
    ...v4.filter((s) => s.startsWith('CREATE INDEX')),
    ...indexes,
  ];
};

export const INSTANCES_MIGRATIONS: readonly Migration[] = [V1, V2, V3, V4, V5_SEVERAL];

export async function migrateInstances(db: ManagerDb): Promise<void> {
  await migratePart(db, INSTANCES_PART, INSTANCES_MIGRATIONS);
}
