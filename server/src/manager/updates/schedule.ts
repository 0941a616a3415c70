/**
 * The leader's once-a-minute round (croner): each instance's scheduled
 * backup when its cron pattern (default daily at 03:00 UTC) came due since
 * its last backup, and an update when the instance is inside its
 * maintenance window and its channel offers a newer release. Writes carry
 * the leader's fence.
 */
import { Cron } from 'croner';
import type { Fence, ManagerDb } from '../db';
import type { Logger } from '../gateway-parts';
import type { InstanceService } from '../instances';
import type { BackupService } from './backups';
import type { ReleaseCatalogue } from './releases';
import { compareVersions } from './releases';
import type { Updater } from './updater';
import { inWindow } from './versions';
import type { Versions } from './versions';

export const DEFAULT_BACKUP_CRON = '0 3 * * *';

export interface ScheduleDeps {
  db: ManagerDb;
  instances: InstanceService;
  backups: BackupService;
  releases: ReleaseCatalogue;
  versions: Versions;
  updater: Updater;
  now: () => number;
  logger: Logger;
  backupCron: string;
}

export function createSchedule(deps: ScheduleDeps) {
  const due = new Cron(deps.backupCron, { timezone: 'UTC', paused: true });

  /** One round at `at` (tests call it with an injected clock). */
  async function tick(fence?: Fence): Promise<{ backedUp: string[]; updating: string[] }> {
    const at = deps.now();
    const out = { backedUp: [] as string[], updating: [] as string[] };
    for (const instance of await deps.instances.list()) {
      // A sleeping instance is woken for its backup (and sleeps again when idle); its updates wait until it is awake.
      if ((instance.state !== 'running' && instance.state !== 'sleeping') || instance.driver !== 'local') continue;
      try {
        const state = await deps.versions.ensure(instance.id);
        const next = due.nextRun(new Date(state.last_backup_at ?? instance.createdAt));
        if (next && next.getTime() <= at) {
          if (instance.state === 'sleeping') await deps.instances.wake(instance.id, 'a scheduled backup');
          await deps.backups.create(instance.id, 'scheduled', fence);
          out.backedUp.push(instance.id);
        }
        if (instance.state === 'running' && state.window_start !== null && state.window_end !== null && inWindow(at, state.window_start, state.window_end)) {
          const newest = await deps.releases.newest(state.channel);
          if (newest && compareVersions(newest.version, state.version) > 0 && deps.releases.installed(newest.version)) {
            const lastTry = await deps.db.k
              .selectFrom('update_runs')
              .select('started_at')
              .where('instance_id', '=', instance.id)
              .where('to_version', '=', newest.version)
              .orderBy('started_at', 'desc')
              .executeTakeFirst();
            // A release that was rolled back is not retried in the same day.
            if (!lastTry || at - lastTry.started_at > 86_400_000) {
              if (fence) await deps.db.tx(fence);
              const { started, finished } = deps.updater.begin(instance.id, { kind: 'update', version: newest.version, actor: 'system' });
              finished.catch((err: unknown) => deps.logger.warn('scheduled update failed', { instanceId: instance.id, err: err instanceof Error ? err.message : String(err) }));
              await started;
              out.updating.push(instance.id);
            }
          }
        }
      } catch (err) {
        deps.logger.warn('scheduled work failed', { instanceId: instance.id, err: err instanceof Error ? err.message : String(err) });
      }
    }
    return out;
  }

  let timer: Cron | null = null;
  let running: Promise<unknown> | null = null;
  return {
    tick,
    start(fence: Fence): void {
      timer?.stop();
      timer = new Cron('* * * * *', { timezone: 'UTC', protect: true }, () => {
        running ??= tick(fence).finally(() => {
          running = null;
        });
      });
    },
    async stop(): Promise<void> {
      timer?.stop();
      timer = null;
      await running;
    },
  };
}
