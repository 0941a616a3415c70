/**
 * releases.*, updates.* and backups.* on the manager. A signed-in user acts
 * on their own instance (its version, channel, window, "Update now", roll
 * back, its backups); the operator CLI acts on any through *.operator.*.
 * updates.progress streams the instance's update and backup events.
 */
import { tracked } from '@trpc/server';
import { AppError, UpdatesInputs } from '@autoclaw/shared';
import type { Backup, Instance, InstanceEvent, InstanceRelease, Release, UpdateRun } from '@autoclaw/shared';
import type { InstanceService } from '../instances';
import { operatorProcedure, protectedProcedure, router } from '../trpc';
import type { UpdatesPart } from './part';

declare module '../trpc' {
  interface ManagerServices {
    /** The updates part (absent in tests of other parts). */
    updates?: UpdatesPart;
  }
}

interface Ctx {
  services: { updates?: UpdatesPart; instances?: InstanceService };
}

function partOf(ctx: Ctx): UpdatesPart {
  if (!ctx.services.updates) throw new AppError('NOT_CONFIGURED', 'this manager runs no update service');
  return ctx.services.updates;
}

async function own(ctx: Ctx & { user: { email: string } }, instanceId: string): Promise<Instance> {
  const instance = await ctx.services.instances?.get(instanceId);
  if (!instance || instance.owner !== ctx.user.email.toLowerCase()) throw new AppError('NOT_FOUND', `no instance ${instanceId}`);
  return instance;
}

const actor = (ctx: { user: { id: string } }) => `user:${ctx.user.id}`;

export const releasesRouter = router({
  list: protectedProcedure.query(({ ctx }): Promise<Release[]> => partOf(ctx).releases.list()),
  operator: router({
    add: operatorProcedure.input(UpdatesInputs.addRelease).mutation(({ ctx, input }): Promise<Release> => partOf(ctx).releases.add(input.manifest, input.baseDir)),
    list: operatorProcedure.query(({ ctx }): Promise<Release[]> => partOf(ctx).releases.list()),
  }),
});

export const updatesRouter = router({
  status: protectedProcedure.input(UpdatesInputs.instance).query(async ({ ctx, input }): Promise<InstanceRelease> => {
    await own(ctx, input.instanceId);
    return partOf(ctx).status(input.instanceId);
  }),
  history: protectedProcedure.input(UpdatesInputs.instance).query(async ({ ctx, input }): Promise<UpdateRun[]> => {
    await own(ctx, input.instanceId);
    return partOf(ctx).updater.history(input.instanceId);
  }),
  /** "Update now": answers once the run started; follow updates.progress. */
  updateNow: protectedProcedure.input(UpdatesInputs.update).mutation(async ({ ctx, input }): Promise<UpdateRun> => {
    await own(ctx, input.instanceId);
    const { started, finished } = partOf(ctx).updater.begin(input.instanceId, { kind: 'update', actor: actor(ctx), ...(input.version ? { version: input.version } : {}) });
    finished.catch(() => undefined);
    return started;
  }),
  rollback: protectedProcedure.input(UpdatesInputs.instance).mutation(async ({ ctx, input }): Promise<UpdateRun> => {
    await own(ctx, input.instanceId);
    const { started, finished } = partOf(ctx).updater.begin(input.instanceId, { kind: 'rollback', actor: actor(ctx) });
    finished.catch(() => undefined);
    return started;
  }),
  settings: protectedProcedure.input(UpdatesInputs.settings).mutation(async ({ ctx, input }): Promise<InstanceRelease> => {
    await own(ctx, input.instanceId);
    await partOf(ctx).versions.settings(input.instanceId, { ...(input.channel ? { channel: input.channel } : {}), ...(input.window !== undefined ? { window: input.window } : {}) });
    return partOf(ctx).status(input.instanceId);
  }),
  /** The instance's update, backup and state events after lastEventId, then live ones (resumable). */
  progress: protectedProcedure.input(UpdatesInputs.progress).subscription(async function* ({ ctx, input, signal }) {
    await own(ctx, input.instanceId);
    const after = input.lastEventId ? Number(input.lastEventId) : 0;
    if (!Number.isSafeInteger(after) || after < 0) throw new AppError('BAD_REQUEST', 'lastEventId is not an event id');
    const instances = ctx.services.instances as InstanceService;
    for await (const event of instances.watch(input.instanceId, after, signal ?? new AbortController().signal)) {
      if (event.kind === 'update' || event.kind === 'backup' || event.kind === 'transition') yield tracked(String(event.id), event as InstanceEvent);
    }
  }),
  operator: router({
    /** Waits for the update to end (the CLI prints the outcome). */
    update: operatorProcedure
      .input(UpdatesInputs.update)
      .mutation(({ ctx, input }): Promise<UpdateRun> => partOf(ctx).updater.begin(input.instanceId, { kind: 'update', actor: 'operator', ...(input.version ? { version: input.version } : {}) }).finished),
    rollback: operatorProcedure.input(UpdatesInputs.instance).mutation(({ ctx, input }): Promise<UpdateRun> => partOf(ctx).updater.begin(input.instanceId, { kind: 'rollback', actor: 'operator' }).finished),
  }),
});

async function restore(ctx: Ctx, instanceId: string, backupId: string, intoNew: boolean, who: string): Promise<Instance> {
  if (intoNew) return partOf(ctx).restoreIntoNew.restore(instanceId, backupId, who);
  return partOf(ctx).restorer.restore(instanceId, backupId, who);
}

export const backupsRouter = router({
  list: protectedProcedure.input(UpdatesInputs.instance).query(async ({ ctx, input }): Promise<Backup[]> => {
    await own(ctx, input.instanceId);
    return partOf(ctx).backups.list(input.instanceId);
  }),
  create: protectedProcedure.input(UpdatesInputs.instance).mutation(async ({ ctx, input }): Promise<Backup> => {
    await own(ctx, input.instanceId);
    return partOf(ctx).backups.create(input.instanceId, 'manual');
  }),
  /** The encrypted file (base64): only this instance's key opens it. */
  download: protectedProcedure.input(UpdatesInputs.backup).query(async ({ ctx, input }): Promise<{ name: string; base64: string }> => {
    await own(ctx, input.instanceId);
    const file = await partOf(ctx).backups.download(input.instanceId, input.backupId);
    return { name: `${input.instanceId}-${input.backupId}.acbk`, base64: file.toString('base64') };
  }),
  restore: protectedProcedure.input(UpdatesInputs.restore).mutation(async ({ ctx, input }): Promise<Instance> => {
    await own(ctx, input.instanceId);
    return restore(ctx, input.instanceId, input.backupId, input.intoNew === true, actor(ctx));
  }),
  operator: router({
    create: operatorProcedure.input(UpdatesInputs.instance).mutation(({ ctx, input }): Promise<Backup> => partOf(ctx).backups.create(input.instanceId, 'manual')),
    list: operatorProcedure.input(UpdatesInputs.instance).query(({ ctx, input }): Promise<Backup[]> => partOf(ctx).backups.list(input.instanceId)),
    verify: operatorProcedure.input(UpdatesInputs.backup).query(({ ctx, input }) => partOf(ctx).backups.verify(input.instanceId, input.backupId)),
    restore: operatorProcedure.input(UpdatesInputs.restore).mutation(({ ctx, input }): Promise<Instance> => restore(ctx, input.instanceId, input.backupId, input.intoNew === true, 'operator')),
  }),
});
