/**
 * Versioned schema migrations. `PRAGMA user_version` holds the version the
 * file is at; each migration runs in its own IMMEDIATE transaction that
 * re-reads the version first, so two processes opening a fresh file at once
 * cannot both apply it. Never edit a shipped migration: append a new one.
 */
import { AppError } from '@autoclaw/shared';
import type { Db } from './connection';
import { V1, V2, V3, V4, V5, V6 } from './schema-core';
import { BUDGETS, CHANNELS, CREDIT_CAP, SKILL_APPROVALS, SKILL_DOCUMENTS, USAGE_ROLLUP } from './schema-features';

export interface Migration {
  version: number;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, sql: V1 },
  { version: 2, sql: V2 },
  { version: 3, sql: V3 },
  { version: 4, sql: V4 },
  { version: 5, sql: V5 },
  { version: 6, sql: V6 },
  { version: 7, sql: SKILL_APPROVALS },
  { version: 8, sql: SKILL_DOCUMENTS },
  { version: 9, sql: USAGE_ROLLUP },
  { version: 10, sql: BUDGETS },
  { version: 11, sql: CHANNELS },
  { version: 12, sql: CREDIT_CAP },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function schemaVersion(db: Db): number {
  return Number(db.pragma('user_version', { simple: true }));
}

/** Brings the file up to SCHEMA_VERSION; refuses a file made by a newer AutoClaw. */
export function migrate(db: Db, path: string, migrations: readonly Migration[] = MIGRATIONS): void {
  const latest = migrations.length;
  const refuseNewer = (found: number): AppError =>
    new AppError(
      'CONFLICT',
      `the database at ${path} has schema version ${found}, newer than this AutoClaw knows (${latest}); ` +
        'run a newer AutoClaw or restore a backup',
    );
  const found = schemaVersion(db);
  if (found === latest) return;
  if (found > latest) throw refuseNewer(found);
  for (const migration of migrations) {
    if (migration.version !== migrations.indexOf(migration) + 1) {
      throw new AppError('INTERNAL', `migration versions must be 1, 2, 3… (found ${migration.version})`);
    }
    const apply = db.transaction(() => {
      const current = schemaVersion(db);
      if (current > latest) throw refuseNewer(current);
      if (current >= migration.version) return;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    });
    apply.immediate();
  }
}
