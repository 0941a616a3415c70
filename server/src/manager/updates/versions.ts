/** Each instance's release state: the version it runs, the one before, its channel and maintenance window. */
import type { InstanceRelease, ReleaseChannel } from '@autoclaw/shared';
import type { Executor, ManagerDb } from '../db';
import type { InstanceReleasesTable } from './schema';

export function createVersions(db: ManagerDb, builtIn: string) {
  async function ensure(instanceId: string, t: Executor = db.k): Promise<InstanceReleasesTable> {
    const found = await t.selectFrom('instance_releases').selectAll().where('instance_id', '=', instanceId).executeTakeFirst();
    if (found) return found;
    const row: InstanceReleasesTable = {
      instance_id: instanceId,
      version: builtIn,
      previous_version: null,
      channel: 'stable',
      window_start: null,
      window_end: null,
      last_updated_at: null,
      last_backup_at: null,
    };
    await t.insertInto('instance_releases').values(row).onConflict((oc) => oc.column('instance_id').doNothing()).execute();
    return (await t.selectFrom('instance_releases').selectAll().where('instance_id', '=', instanceId).executeTakeFirst()) ?? row;
  }
  return {
    ensure,
    /** The version to start (null: the built-in build). */
    async versionOf(instanceId: string): Promise<string | null> {
      const row = await db.k.selectFrom('instance_releases').select('version').where('instance_id', '=', instanceId).executeTakeFirst();
      return row?.version ?? null;
    },
    async set(instanceId: string, patch: Partial<Omit<InstanceReleasesTable, 'instance_id'>>, t: Executor = db.k): Promise<void> {
      await ensure(instanceId, t);
      await t.updateTable('instance_releases').set(patch).where('instance_id', '=', instanceId).execute();
    },
    async settings(instanceId: string, s: { channel?: ReleaseChannel; window?: InstanceRelease['window'] }): Promise<void> {
      await ensure(instanceId);
      await db.k
        .updateTable('instance_releases')
        .set({
          ...(s.channel ? { channel: s.channel } : {}),
          ...(s.window !== undefined ? { window_start: s.window?.startMinute ?? null, window_end: s.window?.endMinute ?? null } : {}),
        })
        .where('instance_id', '=', instanceId)
        .execute();
    },
    async remove(instanceId: string): Promise<void> {
      await db.k.deleteFrom('instance_releases').where('instance_id', '=', instanceId).execute();
    },
  };
}

export type Versions = ReturnType<typeof createVersions>;

/** Whether `at` (ms) falls in the daily UTC window [start, end) (a window may cross midnight). */
export function inWindow(at: number, start: number, end: number): boolean {
  const minute = Math.floor((at % 86_400_000) / 60_000);
  return start <= end ? minute >= start && minute < end : minute >= start || minute < end;
}
