/**
 * The sleep-and-wake migration (v4) on a database made by the previous
 * build (v3): every instance, event and pairing ticket is kept (ids too),
 * the references still hold, and the state column takes `sleeping`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratePart, openManagerDb } from '../db';
import type { ManagerDb } from '../db';
import { createTestDatabase, testEngine } from '../db/test-db';
import type { TestDatabase } from '../db/test-db';
import { createInstanceRepository } from './repository';
import { INSTANCES_MIGRATIONS, INSTANCES_PART, migrateInstances } from './schema';

describe(`instances schema v4 (${testEngine()})`, () => {
  let dir: string;
  let database: TestDatabase;
  let db: ManagerDb;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-inst-schema-'));
    database = await createTestDatabase(dir);
    db = await openManagerDb(database.target);
  });
  afterAll(async () => {
    await db.close();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every row of a v3 database and lets an instance sleep', async () => {
    await migratePart(db, INSTANCES_PART, INSTANCES_MIGRATIONS.slice(0, 3));
    // Rows as the previous build wrote them (it knew no keep_awake column).
    await sql`INSERT INTO instances (id, owner, state, driver, url, pid, port, wrapped_key, memory_limit_mb, restarts, last_error, created_at, updated_at, origins)
              VALUES ('inst-old', 'old@example.com', 'running', 'local', 'http://127.0.0.1:9', 42, 9, 'wrapped', 512, 0, NULL, 1, 2, NULL)`.execute(db.k);
    for (const [from, to] of [[null, 'provisioning'], ['provisioning', 'starting'], ['starting', 'running']] as const) {
      await db.k.insertInto('instance_events').values({ instance_id: 'inst-old', at: 3, kind: 'transition', from_state: from, to_state: to, message: `to ${to}`, log_lines: null }).execute();
    }
    const repo = createInstanceRepository(db, () => 5_000, () => undefined);
    await db.k
      .insertInto('pairing_tickets')
      .values({ jti: 'jti-1', instance_id: 'inst-old', device_id: 'dev-1', device_public_key: 'pk', device_name: 'phone', issued_at: 1, expires_at: 2, revoked_at: null })
      .execute();
    const eventsBefore = await repo.eventsAfter('inst-old', 0);

    await migrateInstances(db);

    expect(await repo.eventsAfter('inst-old', 0)).toEqual(eventsBefore);
    expect(await db.k.selectFrom('pairing_tickets').selectAll().execute()).toEqual([
      { jti: 'jti-1', instance_id: 'inst-old', device_id: 'dev-1', device_public_key: 'pk', device_name: 'phone', issued_at: 1, expires_at: 2, revoked_at: null },
    ]);
    const asleep = await repo.transition('inst-old', 'sleeping', 'idle', { pid: null, keepAwake: ['discord'] });
    expect(asleep).toMatchObject({ state: 'sleeping', pid: null, url: 'http://127.0.0.1:9', keep_awake: '["discord"]' });
    // New events continue after the old ids; the reference to the instance still holds.
    const last = (await repo.eventsAfter('inst-old', 0)).at(-1);
    expect(last).toMatchObject({ from: 'running', to: 'sleeping' });
    expect(last?.id).toBeGreaterThan(eventsBefore.at(-1)?.id ?? 0);
    await expect(db.k.insertInto('pairing_tickets').values({ jti: 'jti-2', instance_id: 'inst-none', device_id: 'd', device_public_key: 'p', device_name: 'n', issued_at: 1, expires_at: 2, revoked_at: null }).execute()).rejects.toThrow();
  });

  it('v5: keeps the rows as primaries, lets an account have several instances, never two primaries', async () => {
    await migrateInstances(db);
    const repo = createInstanceRepository(db, () => 6_000, () => undefined);
    expect(await repo.byOwner('old@example.com')).toMatchObject({ id: 'inst-old', is_primary: 1 });
    const base = { owner: 'old@example.com', driver: 'local' as const, wrappedKey: 'w', memoryLimitMb: 512 };
    await expect(repo.create({ ...base, id: 'inst-dup' }, 'second primary')).rejects.toMatchObject({ code: 'CONFLICT' });
    const other = await repo.create({ ...base, id: 'inst-new', secondary: true }, 'restored into a new one');
    expect(other.is_primary).toBe(0);
    expect((await repo.ownedBy('old@example.com')).map((r) => r.id)).toEqual(['inst-old', 'inst-new']);
    // At most one primary per owner, whatever writes the table.
    await expect(sql`UPDATE instances SET is_primary = 1 WHERE id = 'inst-new'`.execute(db.k)).rejects.toThrow();
    await expect(repo.setPrimary('inst-new')).rejects.toMatchObject({ code: 'CONFLICT' }); // still provisioning
    await repo.transition('inst-new', 'sleeping', 'made');
    expect(await repo.setPrimary('inst-new')).toMatchObject({ is_primary: 1 });
    expect(await repo.byOwner('old@example.com')).toMatchObject({ id: 'inst-new' });
    // Deleting the primary hands the role to the account's other instance.
    await repo.transition('inst-new', 'deleting', 'gone');
    await repo.remove('inst-new');
    expect(await repo.byOwner('old@example.com')).toMatchObject({ id: 'inst-old', is_primary: 1 });
  });
});
