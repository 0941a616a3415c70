/** The users table: one row per account, email unique and lowercase. */
import { AppError } from '@autoclaw/shared';
import type { ManagerUser, UserRole } from '@autoclaw/shared';
import { isUniqueViolation } from '../db';
import type { Executor, ManagerDb } from '../db';
import type { UsersTable } from './schema';
import { newId } from './tokens';

export type UserRow = UsersTable;

export function toUser(row: UserRow): ManagerUser {
  return { id: row.id, email: row.email, role: row.role, createdAt: row.created_at };
}

export interface UserStore {
  count(t?: Executor): Promise<number>;
  byEmail(email: string): Promise<UserRow | undefined>;
  byId(id: string): Promise<UserRow | undefined>;
  /** CONFLICT when the email is taken. */
  insert(t: Executor, fields: { email: string; passwordHash: string; role: UserRole }): Promise<ManagerUser>;
  setPasswordHash(id: string, passwordHash: string): Promise<void>;
}

export function createUserStore(db: ManagerDb, now: () => number): UserStore {
  return {
    async count(t = db.k) {
      const row = await t.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    byEmail: (email) => db.k.selectFrom('users').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst(),
    byId: (id) => db.k.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst(),
    async insert(t, { email, passwordHash, role }) {
      const id = newId();
      const at = now();
      const lower = email.toLowerCase();
      const taken = await t.selectFrom('users').select('id').where('email', '=', lower).executeTakeFirst();
      if (taken) throw new AppError('CONFLICT', 'an account with this email already exists; sign in instead');
      try {
        await t.insertInto('users').values({ id, email: lower, password_hash: passwordHash, role, created_at: at, updated_at: at }).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('CONFLICT', 'an account with this email already exists; sign in instead');
        throw err;
      }
      return { id, email: lower, role, createdAt: at };
    },
    async setPasswordHash(id, passwordHash) {
      await db.k.updateTable('users').set({ password_hash: passwordHash, updated_at: now() }).where('id', '=', id).execute();
    },
  };
}
