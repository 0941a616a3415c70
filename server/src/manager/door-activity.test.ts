/**
 * The door's record of use: this replica's open requests and tunnels, and
 * the last use written to the database at most once per instance per
 * interval, which another replica (the leader's sleeper) reads.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { testEngine } from './db/test-db';
import { createDoorActivity } from './door-activity';
import { waitFor } from './drivers/local/test-support';
import { startTestManager } from './test-kit';
import type { TestManager } from './test-kit';

describe(`door activity (${testEngine()})`, () => {
  let t: TestManager | null = null;
  afterEach(async () => {
    await t?.close();
    t = null;
  });

  it('counts open uses here, writes the last use at most once per interval, and reads the later of its own and the shared time', async () => {
    t = await startTestManager();
    const db = t.manager.services.db;
    let clock = 1_000_000;
    const here = createDoorActivity({ now: () => clock, db, writeEveryMs: 10_000 });
    const there = createDoorActivity({ now: () => clock, db, writeEveryMs: 10_000 });
    const writes = async () => (await db.k.selectFrom('door_activity').selectAll().execute()).map((r) => [r.instance_id, Number(r.last_at)]);

    const end = here.begin('inst_a');
    expect(here.of('inst_a')).toEqual({ open: 1, lastAt: 1_000_000 });
    clock += 4_000;
    end();
    end();
    await here.flush();
    // The end came within the interval: only the begin was written.
    expect(await writes()).toEqual([['inst_a', 1_000_000]]);
    expect(here.of('inst_a')).toEqual({ open: 0, lastAt: 1_004_000 });
    // Another replica that never saw it sees the shared time.
    expect(await there.shared('inst_a')).toEqual({ open: 0, lastAt: 1_000_000 });
    expect(await there.shared('inst_b')).toEqual({ open: 0, lastAt: null });
    clock += 6_000;
    here.begin('inst_a')();
    await here.flush();
    expect(await writes()).toEqual([['inst_a', 1_010_000]]);
    expect(await there.shared('inst_a')).toEqual({ open: 0, lastAt: 1_010_000 });
    // An older write never moves the time back.
    clock -= 5_000;
    there.begin('inst_a')();
    await there.flush();
    expect(await writes()).toEqual([['inst_a', 1_010_000]]);
  });

  it("an instance's row goes with the instance: deleted through the app, in the delete's transaction; another instance's row stays", async () => {
    // Provisioned asleep: instances with their storage and no gateway process.
    t = await startTestManager({ config: { provisionAsleep: true, signup: 'open' } });
    const db = t.manager.services.db;
    const made = async (email: string) => {
      const { token } = await t!.client().auth.signUp.mutate({ email, password: 'correct horse battery' });
      const api = t!.client(token);
      await api.instances.create.mutate();
      const mine = await waitFor('sleeping', async () => {
        const m = await api.instances.mine.query();
        return m?.state === 'sleeping' ? m : null;
      }, 20_000);
      return { api, id: mine.id };
    };
    const gone = await made('leaving@example.com');
    const stays = await made('staying@example.com');
    // As the door records a use (the write this part makes at most once per interval).
    for (const id of [gone.id, stays.id]) await db.k.insertInto('door_activity').values({ instance_id: id, last_at: 1_000 }).execute();
    await gone.api.instances.delete.mutate({ instanceId: gone.id });
    await waitFor('the instance deleted', async () => ((await db.k.selectFrom('instances').select('id').where('id', '=', gone.id).executeTakeFirst()) ? null : true), 20_000);
    expect((await db.k.selectFrom('door_activity').select('instance_id').execute()).map((r) => r.instance_id)).toEqual([stays.id]);
  });
});
