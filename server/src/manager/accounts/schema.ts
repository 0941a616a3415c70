/** The accounts part's tables (migrated with migratePart(db, 'accounts', …)). */
import type { UserRole } from '@autoclaw/shared';
import type { Migration } from '../db';

export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  role: UserRole;
  created_at: number;
  updated_at: number;
}

export interface AuthSessionsTable {
  id: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  last_used_at: number;
  revoked_at: number | null;
  revoke_reason: string | null;
  remote: string | null;
}

export interface SessionTokensTable {
  token_hash: string;
  session_id: string;
  created_at: number;
  expires_at: number;
  rotated_at: number | null;
}

export interface InvitesTable {
  id: string;
  code_hash: string;
  email: string | null;
  created_by: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  used_by: string | null;
}

export interface SetupTokensTable {
  token_hash: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/** Failed sign-ins per (account, address), per address and per device key: what the growing delays are computed from. */
export interface SigninFailuresTable {
  /** A hash naming the counter (no e-mail or address in the clear). */
  key: string;
  failures: number;
  first_at: number;
  last_at: number;
}

declare module '../db/types' {
  interface ManagerTables {
    users: UsersTable;
    auth_sessions: AuthSessionsTable;
    session_tokens: SessionTokensTable;
    invites: InvitesTable;
    setup_tokens: SetupTokensTable;
    signin_failures: SigninFailuresTable;
  }
}

const V1: Migration = (w) => [
  `CREATE TABLE users (
     id TEXT PRIMARY KEY,
     email TEXT NOT NULL UNIQUE,
     password_hash TEXT NOT NULL,
     role TEXT NOT NULL CHECK (role IN ('owner', 'member')),
     created_at ${w.int} NOT NULL,
     updated_at ${w.int} NOT NULL
   )`,
  `CREATE TABLE auth_sessions (
     id TEXT PRIMARY KEY,
     user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     created_at ${w.int} NOT NULL,
     expires_at ${w.int} NOT NULL,
     last_used_at ${w.int} NOT NULL,
     revoked_at ${w.int},
     revoke_reason TEXT,
     remote TEXT
   )`,
  'CREATE INDEX auth_sessions_user ON auth_sessions(user_id)',
  `CREATE TABLE session_tokens (
     token_hash TEXT PRIMARY KEY,
     session_id TEXT NOT NULL REFERENCES auth_sessions(id) ON DELETE CASCADE,
     created_at ${w.int} NOT NULL,
     expires_at ${w.int} NOT NULL,
     rotated_at ${w.int}
   )`,
  'CREATE INDEX session_tokens_session ON session_tokens(session_id)',
  `CREATE TABLE invites (
     id TEXT PRIMARY KEY,
     code_hash TEXT NOT NULL UNIQUE,
     email TEXT,
     created_by TEXT NOT NULL REFERENCES users(id),
     created_at ${w.int} NOT NULL,
     expires_at ${w.int} NOT NULL,
     used_at ${w.int},
     used_by TEXT
   )`,
  `CREATE TABLE setup_tokens (
     token_hash TEXT PRIMARY KEY,
     created_at ${w.int} NOT NULL,
     expires_at ${w.int} NOT NULL,
     used_at ${w.int}
   )`,
];

/** Sign-in throttling in the database (every replica counts the same failures). */
const V2: Migration = (w) => [
  `CREATE TABLE signin_failures (
     key TEXT PRIMARY KEY,
     failures INTEGER NOT NULL,
     first_at ${w.int} NOT NULL,
     last_at ${w.int} NOT NULL
   )`,
];

export const ACCOUNTS_MIGRATIONS: readonly Migration[] = [V1, V2];
