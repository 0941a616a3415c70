import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '@autoclaw/shared';
import { BUSY_TIMEOUT_MS, openConnection, toAppError } from './connection';
import { MIGRATIONS, SCHEMA_VERSION, migrate, schemaVersion } from './migrations';
import { openStore } from './sqlite-store';

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'autoclaw-migrate-'));
  path = join(dir, 'nested', 'gateway.sqlite');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function raw(): Database.Database {
  return new Database(path);
}

describe('opening a store', () => {
  it('creates the schema on an empty file, in WAL mode', () => {
    openStore({ path }).close();
    const db = raw();
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    for (const table of ['devices', 'memories', 'memories_fts', 'messages', 'pairing_codes', 'sessions', 'settings', 'summaries', 'tool_calls', 'usage']) {
      expect(tables).toContain(table);
    }
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });

  it('sets the durability and safety pragmas on every connection', () => {
    const db = openConnection(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(BUSY_TIMEOUT_MS);
    db.close();
  });

  it('keeps data across reopen without migrating again', () => {
    const first = openStore({ path });
    const s = first.ensureSession('main');
    first.insertUserMessage({ sessionId: s.id, clientId: 'client-reopen', text: 'persisted' });
    const dump = first.dump();
    first.close();
    const second = openStore({ path });
    expect(second.dump()).toBe(dump);
    expect(second.listMessages(s.id)[0]?.text).toBe('persisted');
    second.close();
  });

  it('makes devices paired before roles existed owners, and keeps codes without a role for pairing to decide', () => {
    const db = openConnection(path);
    migrate(db, path, MIGRATIONS.slice(0, 3));
    db.prepare("INSERT INTO devices (id, name, kind, public_key, created_at) VALUES ('dev_old', 'old laptop', 'client', 'k', 1)").run();
    db.prepare("INSERT INTO pairing_codes (code_hash, created_at, expires_at) VALUES ('h', 1, 2)").run();
    migrate(db, path);
    expect(db.prepare('SELECT role FROM devices').pluck().get()).toBe('owner');
    expect(db.prepare('SELECT role FROM pairing_codes').pluck().get()).toBeNull();
    expect(db.prepare('SELECT count(*) FROM audit_log').pluck().get()).toBe(0);
    db.close();
  });

  it('refuses a database made by a newer version, changing nothing', () => {
    openStore({ path }).close();
    const db = raw();
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    let error: unknown;
    try {
      openStore({ path });
    } catch (err) {
      error = err;
    }
    expect(AppError.is(error, 'CONFLICT')).toBe(true);
    expect((error as Error).message).toMatch(/newer than this AutoClaw knows/);
    const after = raw();
    expect(schemaVersion(after)).toBe(SCHEMA_VERSION + 1);
    after.close();
  });

  it('turns a file that is not a database into an AppError', () => {
    openStore({ path }).close();
    rmSync(`${path}-wal`, { force: true });
    rmSync(`${path}-shm`, { force: true });
    writeFileSync(path, 'this is not an sqlite file, just some text that fills the header'.repeat(100));
    expect(() => openStore({ path })).toThrow(AppError);
  });

  it('applies only newer migrations, each atomically', () => {
    openStore({ path }).close();
    const db = openConnection(path);
    const n = MIGRATIONS.length;
    const v2 = { version: n + 1, sql: 'CREATE TABLE extra (id INTEGER PRIMARY KEY); INSERT INTO extra (id) VALUES (1);' };
    migrate(db, path, [...MIGRATIONS, v2]);
    expect(schemaVersion(db)).toBe(n + 1);
    expect(db.prepare('SELECT count(*) FROM extra').pluck().get()).toBe(1);
    // Running again applies nothing twice.
    migrate(db, path, [...MIGRATIONS, v2]);
    expect(db.prepare('SELECT count(*) FROM extra').pluck().get()).toBe(1);

    const broken = { version: n + 2, sql: 'CREATE TABLE half (id INTEGER); INSERT INTO nowhere VALUES (1);' };
    expect(() => migrate(db, path, [...MIGRATIONS, v2, broken])).toThrow();
    expect(schemaVersion(db)).toBe(n + 1);
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'half'").pluck().get()).toBe(0);
    db.close();
  });
});

describe('two connections', () => {
  it('see each other’s commits at once', () => {
    const gateway = openStore({ path });
    const cli = openStore({ path });
    const s = gateway.ensureSession('main');
    expect(cli.ensureSession('main').id).toBe(s.id);
    const sent = cli.insertUserMessage({ sessionId: s.id, clientId: 'client-from-cli', text: 'from the cli' });
    expect(gateway.getMessage(sent.message.id)?.text).toBe('from the cli');
    expect(gateway.insertUserMessage({ sessionId: s.id, clientId: 'client-from-cli', text: 'x' }).duplicate).toBe(true);
    cli.setSetting('model', 'openai:gpt');
    expect(gateway.getSetting('model')).toBe('openai:gpt');
    gateway.close();
    cli.close();
  });
});

describe('errors', () => {
  it('never lets a raw SQLite error out', () => {
    const store = openStore({ path });
    store.close();
    expect(() => store.listSessions()).toThrow(AppError);
    const make = (code: string) => new Database.SqliteError('boom', code);
    expect(toAppError(make('SQLITE_BUSY')).code).toBe('TIMEOUT');
    expect(toAppError(make('SQLITE_CONSTRAINT_UNIQUE')).code).toBe('CONFLICT');
    expect(toAppError(make('SQLITE_CONSTRAINT_FOREIGNKEY')).code).toBe('NOT_FOUND');
    expect(toAppError(make('SQLITE_IOERR')).code).toBe('INTERNAL');
  });
});
