/**
 * The control plane's procedures. The renderer and the CLI are written
 * against exactly this shape (its type is exported from router-type.ts).
 * Inputs are the shared zod schemas; outputs are the shared types.
 */
import { tracked } from '@trpc/server';
import { AppError, ChannelInputs, GatewayAdminInputs, NoticeInputs, ProcedureInputs, SESSIONS_PAGE_DEFAULT, SkillInputs } from '@autoclaw/shared';
import type { ApprovedSender, ChannelDetail, ChannelStatus, ChatSendResult, Device, DrainResult, GatewayActivity, GatewayAuditPage, GatewayHealth, Memory, Message, NoticeList, SelfCheck, Session, SessionPage, SettingsView, SkillView, StandingApproval, WhoAmI } from '@autoclaw/shared';
import { deviceView, isOwnerDevice } from '../security';
import { budgetRouter, costAdminProcedures, usageRouter } from './costs-router';
import { authedProcedure, managerProcedure, ownerProcedure, publicProcedure, router, skillsOwnerProcedure, skillsProcedure, turnProcedure, type GatewayServices } from './trpc';

const OK = { ok: true as const };

const sessions = router({
  /** Newest first, at most SESSIONS_PAGE_MAX per call; `nextCursor` continues (null on the last page). */
  list: authedProcedure.input(ProcedureInputs.sessionsList).query(
    ({ ctx, input }): SessionPage =>
      ctx.services.chat.listSessionsPage({
        limit: input?.limit ?? SESSIONS_PAGE_DEFAULT,
        ...(input?.cursor === undefined ? {} : { cursor: input.cursor }),
      }),
  ),
  create: authedProcedure
    .input(ProcedureInputs.sessionsCreate)
    .mutation(({ ctx, input }): Session => ctx.services.chat.createSession(input)),
  ensure: authedProcedure
    .input(ProcedureInputs.sessionsEnsure)
    .mutation(({ ctx, input }): Session => ctx.services.chat.ensureSession(input.name)),
  rename: authedProcedure
    .input(ProcedureInputs.sessionsRename)
    .mutation(({ ctx, input }): Session => ctx.services.chat.renameSession(input.sessionId, input.title)),
  delete: authedProcedure.input(ProcedureInputs.sessionsDelete).mutation(async ({ ctx, input }) => {
    await ctx.services.chat.deleteSession(input.sessionId);
    return OK;
  }),
});

const chat = router({
  history: authedProcedure
    .input(ProcedureInputs.chatHistory)
    .query(({ ctx, input }): Message[] => ctx.services.chat.history(input.sessionId)),
  send: turnProcedure
    .input(ProcedureInputs.chatSend)
    .mutation(async ({ ctx, input }): Promise<ChatSendResult> => {
      const result = await ctx.services.chat.sendBatched(input);
      if (!result.duplicate && ctx.requestId !== undefined) ctx.services.turnLog?.messageAccepted(result.message.id, ctx.requestId);
      return result;
    }),
  cancel: authedProcedure
    .input(ProcedureInputs.chatCancel)
    .mutation(({ ctx, input }) => ({ cancelled: ctx.services.chat.cancel(input.sessionId) })),
  retry: turnProcedure
    .input(ProcedureInputs.chatRetry)
    .mutation(({ ctx, input }): Message => ctx.services.chat.retry(input.messageId)),
  approve: authedProcedure.input(ProcedureInputs.chatApprove).mutation(({ ctx, input }) => {
    // A standing approval outlives the call: it is the owner's to give (and to revoke).
    if (input.approve && input.scope !== undefined && input.scope !== 'once' && !isOwnerDevice(ctx.device)) {
      throw new AppError('FORBIDDEN', 'only an owner device may approve a tool for the conversation or for always; approve this call once');
    }
    ctx.services.chat.approve(input.toolCallId, input.approve, input.scope);
    return OK;
  }),
  deleteMessage: authedProcedure.input(ProcedureInputs.messagesDelete).mutation(({ ctx, input }) => {
    ctx.services.chat.deleteMessage(input.messageId);
    return OK;
  }),
  /** The session's live events; resumable through tracked ids (lastEventId). */
  events: authedProcedure.input(ProcedureInputs.chatEvents).subscription(async function* ({ ctx, input, signal }) {
    const stop = signal ?? new AbortController().signal;
    for await (const ev of ctx.services.chat.events(input.sessionId, input.lastEventId ?? null, stop)) {
      yield tracked(ev.id, ev.event);
    }
  }),
});

const memory = router({
  search: authedProcedure
    .input(ProcedureInputs.memorySearch)
    .query(({ ctx, input }): Memory[] => ctx.services.chat.searchMemories(input.query, input.limit ?? 50)),
  delete: authedProcedure.input(ProcedureInputs.memoryDelete).mutation(({ ctx, input }) => {
    ctx.services.chat.deleteMemory(input.memoryId);
    return OK;
  }),
});

const settings = router({
  get: authedProcedure.query(({ ctx }): SettingsView => ctx.services.settings.view()),
  set: ownerProcedure.input(ProcedureInputs.settingsSet).mutation(({ ctx, input }): SettingsView =>
    ctx.services.settings.set(input.key, input.value, { actor: ctx.device.id, ...(input.apiKey === undefined ? {} : { apiKey: input.apiKey }) }),
  ),
});

const devices = router({
  list: authedProcedure.query(({ ctx }): Device[] => ctx.services.store.listDevices().map((d) => deviceView(d, ctx.device.id))),
  /** Owners revoke any device; a chat device only itself (unpairing). */
  revoke: authedProcedure.input(ProcedureInputs.devicesRevoke).mutation(({ ctx, input }) => {
    if (input.deviceId !== ctx.device.id && !isOwnerDevice(ctx.device)) {
      throw new AppError('FORBIDDEN', "this device is paired for chat only; it may unpair itself but not revoke other devices");
    }
    ctx.services.devices.revoke(input.deviceId, ctx.device.id);
    return OK;
  }),
  setRole: ownerProcedure
    .input(ProcedureInputs.devicesSetRole)
    .mutation(({ ctx, input }): Device => deviceView(ctx.services.devices.setRole(input.deviceId, input.role, ctx.device.id), ctx.device.id)),
});

const audit = router({
  /** Newest first, at most `limit` (default 50) per call; `nextCursor` continues. */
  list: ownerProcedure.input(ProcedureInputs.auditList).query(({ ctx, input }): GatewayAuditPage => {
    const limit = input.limit ?? 50;
    const before = input.cursor === undefined ? undefined : Number(input.cursor);
    if (before !== undefined && !(Number.isSafeInteger(before) && before > 0)) throw new AppError('BAD_REQUEST', 'cursor is not one this gateway gave');
    const entries = ctx.services.store.listAudit({ limit: limit + 1, ...(before === undefined ? {} : { beforeSeq: before }) });
    const page = entries.slice(0, limit);
    return { entries: page, nextCursor: entries.length > limit ? String(page.at(-1)?.seq) : null };
  }),
});

/** What the gateway tells the user apart from chat (budget lines, channel states, …). */
const notices = router({
  list: authedProcedure
    .input(NoticeInputs.list)
    .query(({ ctx, input }): NoticeList => ctx.services.notices.list({ limit: input.limit ?? 50, ...(input.unreadOnly === undefined ? {} : { unreadOnly: input.unreadOnly }) })),
  markRead: authedProcedure
    .input(NoticeInputs.markRead)
    .mutation(({ ctx, input }) => ctx.services.notices.markRead('all' in input ? 'all' : input.ids)),
  /** New notices (and unread counts) live; resumable through tracked ids (the last notice's seq). */
  events: authedProcedure.input(NoticeInputs.events).subscription(async function* ({ ctx, input, signal }) {
    const stop = signal ?? new AbortController().signal;
    const since = input.lastEventId === undefined || input.lastEventId === null ? null : Number(input.lastEventId);
    for await (const item of ctx.services.notices.events(since, stop)) {
      yield tracked(String(item.seq), item.event);
    }
  }),
});

/** Skills: what is installed and what it may do; enabling, secrets and settings are for the owner. */
const skills = router({
  list: skillsProcedure.query(({ ctx }): SkillView[] => ctx.skills.list()),
  enable: skillsOwnerProcedure.input(SkillInputs.skillRef).mutation(({ ctx, input }): SkillView => ctx.skills.enable(input.name)),
  disable: skillsOwnerProcedure.input(SkillInputs.skillRef).mutation(({ ctx, input }): SkillView => ctx.skills.disable(input.name)),
  setSecret: skillsOwnerProcedure
    .input(SkillInputs.setSecret)
    .mutation(({ ctx, input }): SkillView => ctx.skills.setSecret(input.name, input.secret, input.value)),
  setSetting: skillsOwnerProcedure
    .input(SkillInputs.setSetting)
    .mutation(({ ctx, input }): SkillView => ctx.skills.setSetting(input.name, input.setting, input.value)),
  /** Connecting an account: the sign-in URL (PKCE; the verifier stays in the gateway) and where it returns to. */
  oauthStart: skillsOwnerProcedure
    .input(SkillInputs.oauthStart)
    .mutation(({ ctx, input }) => ctx.skills.oauthStart(input.name, input.redirectUri)),
  /** The code a loopback redirect caught (the desktop app's own listener). */
  oauthFinish: skillsOwnerProcedure.input(SkillInputs.oauthFinish).mutation(({ ctx, input }): Promise<SkillView> => ctx.skills.oauthFinish(input.state, input.code)),
  oauthDisconnect: skillsOwnerProcedure.input(SkillInputs.skillRef).mutation(({ ctx, input }): SkillView => ctx.skills.oauthDisconnect(input.name)),
  approvals: skillsProcedure.query(({ ctx }): StandingApproval[] => ctx.skills.listApprovals()),
  revokeApproval: skillsOwnerProcedure.input(SkillInputs.approvalRef).mutation(({ ctx, input }) => {
    ctx.skills.revokeApproval(input.id);
    return OK;
  }),
});

/** Chat channels: states, enabling, pairings of senders (configuration is the owner's). */
const channelManager = (services: GatewayServices) => {
  if (!services.channels) throw new AppError('NOT_CONFIGURED', 'this gateway runs no channels');
  return services.channels;
};
const channels = router({
  list: authedProcedure.query(({ ctx }): ChannelStatus[] => channelManager(ctx.services).list()),
  get: authedProcedure.input(ChannelInputs.get).query(({ ctx, input }): ChannelDetail => channelManager(ctx.services).detail(input.name)),
  setEnabled: ownerProcedure
    .input(ChannelInputs.setEnabled)
    .mutation(({ ctx, input }): ChannelStatus => channelManager(ctx.services).setEnabled(input.name, input.enabled, ctx.device.id)),
  approve: ownerProcedure
    .input(ChannelInputs.approve)
    .mutation(({ ctx, input }): ApprovedSender => channelManager(ctx.services).approve(input.channel, input.code, ctx.device.id)),
  deny: ownerProcedure.input(ChannelInputs.deny).mutation(({ ctx, input }) => {
    channelManager(ctx.services).deny(input.channel, input.code, ctx.device.id);
    return OK;
  }),
  revoke: ownerProcedure.input(ChannelInputs.revoke).mutation(({ ctx, input }) => {
    channelManager(ctx.services).revoke(input.channel, input.senderId, ctx.device.id);
    return OK;
  }),
  /** Status and sender changes, live (each event is a fresh snapshot: nothing to resume). */
  events: authedProcedure.subscription(async function* ({ ctx, signal }) {
    yield* channelManager(ctx.services).events(signal ?? new AbortController().signal);
  }),
});

/** The manager acting on its instance: graceful restarts between turns, health and memory. */
const admin = router({
  drain: managerProcedure
    .input(GatewayAdminInputs.drain)
    .mutation(({ ctx, input }): Promise<DrainResult> => ctx.admin.drain(input.timeoutMs)),
  health: managerProcedure.query(({ ctx }): GatewayHealth => ctx.admin.health()),
  activity: managerProcedure.query(({ ctx }): GatewayActivity => ctx.admin.activity()),
  ...costAdminProcedures,
  selfCheck: managerProcedure.query(({ ctx }): SelfCheck => ctx.admin.selfCheck()),
  notify: managerProcedure.input(GatewayAdminInputs.notify).mutation(({ ctx, input }) => {
    ctx.admin.notify(input);
    return OK;
  }),
});

export const appRouter = router({
  health: publicProcedure.query(({ ctx }) => ({ ok: true as const, version: ctx.services.version })),
  auth: router({
    whoami: authedProcedure.query(({ ctx }): WhoAmI => ({
      deviceId: ctx.device.id,
      name: ctx.device.name,
      kind: ctx.device.kind,
      role: isOwnerDevice(ctx.device) ? 'owner' : 'chat',
    })),
  }),
  sessions,
  chat,
  memory,
  settings,
  devices,
  notices,
  audit,
  skills,
  channels,
  admin,
  usage: usageRouter,
  budget: budgetRouter,
});

