/**
 * instances.* on the manager: a signed-in user sees and controls their own
 * instance (one per user), follows its events live, pairs a device (a
 * ticket for the gateway) and lists or revokes its devices. The operator CLI
 * acts on any instance through instances.operator.*.
 */
import { tracked } from '@trpc/server';
import { AppError, InstanceInputs } from '@autoclaw/shared';
import type { Device, DoorPass, Instance, PairDeviceResult } from '@autoclaw/shared';
import { operatorProcedure, protectedProcedure, router } from '../trpc';
import type { InstanceService } from './service';

declare module '../trpc' {
  interface ManagerServices {
    /** The instances part (absent only in tests of other parts). */
    instances?: InstanceService;
    /** Issues door passes (door-access.ts; absent only in tests of other parts). */
    doorPasses?: { issue(instanceId: string, sessionId: string): DoorPass };
  }
}

const OK = { ok: true as const };

interface ServicesCtx {
  services: { instances?: InstanceService };
}

function instancesOf(ctx: ServicesCtx): InstanceService {
  const service = ctx.services.instances;
  if (!service) throw new AppError('NOT_CONFIGURED', 'this manager runs no instance service');
  return service;
}

/** The user's own instance with that id; NOT_FOUND for anyone else's (its existence is not revealed). */
async function ownInstance(ctx: ServicesCtx & { user: { email: string } }, instanceId: string): Promise<Instance> {
  const instance = await instancesOf(ctx).get(instanceId);
  if (!instance || instance.owner !== ctx.user.email.toLowerCase()) throw new AppError('NOT_FOUND', `no instance ${instanceId}`);
  return instance;
}

const actorOf = (ctx: { user: { id: string } }) => ({ actor: `user:${ctx.user.id}` });

const operator = router({
  create: operatorProcedure
    .input(InstanceInputs.operatorCreate)
    .mutation(async ({ ctx, input }): Promise<Instance> => {
      if (!(await ctx.services.accounts.userByEmail(input.owner))) throw new AppError('NOT_FOUND', `no account ${input.owner} (make it with "autoclaw users create")`);
      return instancesOf(ctx).provision(input.owner, { actor: 'operator' });
    }),
  list: operatorProcedure.query(({ ctx }): Promise<Instance[]> => instancesOf(ctx).list()),
  start: operatorProcedure
    .input(InstanceInputs.operatorRef)
    .mutation(({ ctx, input }): Promise<Instance> => instancesOf(ctx).start(input.instanceId, { actor: 'operator' })),
  stop: operatorProcedure
    .input(InstanceInputs.operatorRef)
    .mutation(({ ctx, input }): Promise<Instance> => instancesOf(ctx).stop(input.instanceId, { actor: 'operator' })),
  delete: operatorProcedure.input(InstanceInputs.operatorRef).mutation(async ({ ctx, input }) => {
    await instancesOf(ctx).delete(input.instanceId, { actor: 'operator' });
    return OK;
  }),
  setPrimary: operatorProcedure.input(InstanceInputs.setPrimary).mutation(({ ctx, input }): Promise<Instance> => instancesOf(ctx).setPrimary(input.instanceId, { actor: 'operator' })),
});

export const instancesRouter = router({
  /** The user's instance, or null before it was created. */
  mine: protectedProcedure.query(({ ctx }): Promise<Instance | null> => instancesOf(ctx).byOwner(ctx.user.email)),
  /** Every instance of the user, the primary first (an app's instance switcher). */
  list: protectedProcedure.query(({ ctx }): Promise<Instance[]> => instancesOf(ctx).ownedBy(ctx.user.email)),
  /** The user's account uses this instance from now on (instances.mine answers it). */
  setPrimary: protectedProcedure.input(InstanceInputs.setPrimary).mutation(async ({ ctx, input }): Promise<Instance> => {
    await ownInstance(ctx, input.instanceId);
    return instancesOf(ctx).setPrimary(input.instanceId, actorOf(ctx));
  }),
  /** Creates the user's instance when there is none (provisioning continues; follow instances.events). */
  create: protectedProcedure.mutation(({ ctx }): Promise<Instance> => instancesOf(ctx).ensureFor(ctx.user.email, actorOf(ctx))),
  start: protectedProcedure.input(InstanceInputs.start).mutation(async ({ ctx, input }): Promise<Instance> => {
    await ownInstance(ctx, input.instanceId);
    return instancesOf(ctx).startLater(input.instanceId, actorOf(ctx));
  }),
  stop: protectedProcedure.input(InstanceInputs.stop).mutation(async ({ ctx, input }): Promise<Instance> => {
    await ownInstance(ctx, input.instanceId);
    return instancesOf(ctx).stopLater(input.instanceId, actorOf(ctx));
  }),
  delete: protectedProcedure.input(InstanceInputs.delete).mutation(async ({ ctx, input }): Promise<Instance> => {
    await ownInstance(ctx, input.instanceId);
    return instancesOf(ctx).deleteLater(input.instanceId, actorOf(ctx));
  }),
  /** Every event of the instance after lastEventId, then live ones (resumable: tracked ids). */
  events: protectedProcedure.input(InstanceInputs.events).subscription(async function* ({ ctx, input, signal }) {
    await ownInstance(ctx, input.instanceId);
    const after = input.lastEventId ? Number(input.lastEventId) : 0;
    if (!Number.isSafeInteger(after) || after < 0) throw new AppError('BAD_REQUEST', 'lastEventId is not an event id');
    const stop = signal ?? new AbortController().signal;
    for await (const event of instancesOf(ctx).watch(input.instanceId, after, stop)) {
      yield tracked(String(event.id), event);
    }
  }),
  /** A single-use ticket (5 minutes) for this device key; the device presents it at POST /auth/ticket of gatewayUrl. */
  pairDevice: protectedProcedure.input(InstanceInputs.pairDevice).mutation(async ({ ctx, input }): Promise<PairDeviceResult> => {
    await ownInstance(ctx, input.instanceId);
    return instancesOf(ctx).issueTicket(input.instanceId, input.publicKey, input.deviceName, actorOf(ctx).actor);
  }),
  /** A short-lived pass through the one door to this instance (the app asks before each connect). */
  doorPass: protectedProcedure.input(InstanceInputs.doorPass).mutation(async ({ ctx, input }): Promise<DoorPass> => {
    await ownInstance(ctx, input.instanceId);
    const passes = ctx.services.doorPasses;
    if (!passes) throw new AppError('NOT_CONFIGURED', 'this manager has no door');
    return passes.issue(input.instanceId, ctx.auth.sessionId);
  }),
  devices: protectedProcedure.input(InstanceInputs.devices).query(async ({ ctx, input }): Promise<Device[]> => {
    await ownInstance(ctx, input.instanceId);
    return instancesOf(ctx).listDevices(input.instanceId);
  }),
  revokeDevice: protectedProcedure.input(InstanceInputs.revokeDevice).mutation(async ({ ctx, input }) => {
    await ownInstance(ctx, input.instanceId);
    await instancesOf(ctx).revokeDevice(input.instanceId, input.deviceId, actorOf(ctx).actor);
    return OK;
  }),
  operator,
});
