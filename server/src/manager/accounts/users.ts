/** The users table: one row per account, email unique and lowercase. */
import { AppError } from '@autoclaw/shared';
import type { ManagerUser, UserRole } from '@autoclaw/shared';
import type { ManagerDb } from '../db';
import { newId } from './tokens';

export interface UserRow {
  id: string;
  email: string;
  password_hash: string;
  role: UserRole;
  created_at: number;
  updated_at: number;
}

export function toUser(row: UserRow): ManagerUser {
  return { id: row.id, email: row.email, role: row.role, createdAt: row.created_at };
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE' || (err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export interface UserStore {
  count(): number;
  byEmail(email: string): UserRow | undefined;
  byId(id: string): UserRow | undefined;
  /** CONFLICT when the email is taken. */
  insert(fields: { email: string; passwordHash: string; role: UserRole }): ManagerUser;
  setPasswordHash(id: string, passwordHash: string): void;
}

export function createUserStore(db: ManagerDb, now: () => number): UserStore {
  const byEmail = db.prepare('SELECT * FROM users WHERE email = ?');
  const byId = db.prepare('SELECT * FROM users WHERE id = ?');
  const insert = db.prepare('INSERT INTO users (id, email, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)');
  const setHash = db.prepare('UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?');
  return {
    count: () => (db.prepare('SELECT COUNT(*) AS n FROM users').get() as { n: number }).n,
    byEmail: (email) => byEmail.get(email.toLowerCase()) as UserRow | undefined,
    byId: (id) => byId.get(id) as UserRow | undefined,
    insert({ email, passwordHash, role }) {
      const id = newId();
      const at = now();
      try {
        insert.run(id, email.toLowerCase(), passwordHash, role, at, at);
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('CONFLICT', 'an account with this email already exists; sign in instead');
        throw err;
      }
      return { id, email: email.toLowerCase(), role, createdAt: at };
    },
    setPasswordHash(id, passwordHash) {
      setHash.run(passwordHash, now(), id);
    },
  };
}
