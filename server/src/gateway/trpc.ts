/**
 * The tRPC instance: context, the one error formatter (AppError → wire) and
 * the authenticated procedure. Routers are built in router.ts.
 */
import { initTRPC, TRPCError } from '@trpc/server';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { AppError, isErrorCode } from '@autoclaw/shared';
import type { NoticeInput, SelfCheck, DeviceRole, ErrorCode, GatewayActivity } from '@autoclaw/shared';
import type { ChatService } from '../agent';
import type { ChannelManager } from '../channels';
import type { DeviceRecord, Store } from '../store';
import type { Settings } from '../security';
import type { NoticeBoard } from './notice-board';
import { isOwnerDevice } from '../security';
import type { SkillService } from '../skills';
import { APP_CODE_OF_TRPC, HTTP_STATUS_OF, INTERNAL_MESSAGE, TRPC_CODE_OF } from './error-mapping';

/** What a socket may do to devices; closing sockets is part of revoking. `actor` is the device asking (for the audit log). */
export interface DeviceAdmin {
  revoke(deviceId: string, actor: string | null): void;
  setRole(deviceId: string, role: DeviceRole, actor: string | null): DeviceRecord;
}

/** What only the manager device may do: drain before a graceful restart, read health. */
export interface GatewayAdmin {
  /** True once a drain began: new turns are refused until the process restarts. */
  readonly draining: boolean;
  /** Refuses new turns and waits (up to `timeoutMs`) for running ones to finish. */
  drain(timeoutMs: number): Promise<{ drained: boolean; busySessions: number }>;
  health(): { rssMb: number; uptimeMs: number; busySessions: number; draining: boolean };
  /** What keeps the gateway awake: running turns, connected clients, channels that need a live process. */
  activity(): GatewayActivity;
  selfCheck(): SelfCheck;
  notify(input: NoticeInput): void;
}

export interface GatewayServices {
  store: Store;
  chat: ChatService;
  settings: Settings;
  devices: DeviceAdmin;
  notices: NoticeBoard;
  /** Chat channels; absent in tests that build services by hand. */
  channels?: ChannelManager;
  version: string;
  /** Absent in tests that build services by hand. */
  admin?: GatewayAdmin;
  /** The skill runtime (absent in tests that build services by hand). */
  skills?: SkillService;
  /** Remembers which request sent a message, for its turn's log line (absent in tests that build services by hand). */
  turnLog?: { messageAccepted(messageId: string, requestId: string): void };
}

export interface Context {
  services: GatewayServices;
  /** The authenticated device of the connection; null when none. */
  deviceId: string | null;
  /** The id of the request (or the WebSocket's upgrade request) this call came on. */
  requestId?: string;
}

export interface AppErrorData {
  code: TRPC_ERROR_CODE_KEY;
  httpStatus: number;
  path?: string;
  /** The AppError code clients branch on. */
  appCode: ErrorCode;
  /** Extra, non-secret facts (e.g. retryAfterMs). */
  details?: Record<string, unknown>;
}

interface IssueLike {
  path: ReadonlyArray<PropertyKey>;
  message: string;
}

function zodIssues(cause: unknown): IssueLike[] | null {
  if (cause instanceof Error && cause.name === 'ZodError' && Array.isArray((cause as { issues?: unknown }).issues)) {
    return (cause as unknown as { issues: IssueLike[] }).issues;
  }
  return null;
}

function readableIssues(issues: IssueLike[]): string {
  const text = issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.map(String).join('.') : 'input'}: ${i.message}`)
    .join('; ');
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}

function asAppError(cause: unknown): AppError | null {
  if (cause instanceof AppError) return cause;
  // An AppError from another copy of the shared module still counts.
  if (cause instanceof Error && cause.name === 'AppError' && isErrorCode((cause as { code?: unknown }).code)) {
    return cause as AppError;
  }
  return null;
}

/** Maps any error raised while serving a call to the shape clients get. */
export function formatError(error: TRPCError, path: string | undefined) {
  const app = asAppError(error.cause);
  const issues = zodIssues(error.cause);
  let appCode: ErrorCode;
  let trpcCode: TRPC_ERROR_CODE_KEY;
  let message: string;
  let details: Record<string, unknown> | undefined;
  if (app) {
    appCode = app.code;
    trpcCode = TRPC_CODE_OF[app.code];
    message = app.message;
    details = app.details ? { ...app.details } : undefined;
  } else if (issues) {
    appCode = 'BAD_REQUEST';
    trpcCode = 'BAD_REQUEST';
    message = `invalid input: ${readableIssues(issues)}`;
  } else {
    trpcCode = error.code;
    appCode = APP_CODE_OF_TRPC[error.code] ?? 'INTERNAL';
    message = error.message;
  }
  if (appCode === 'INTERNAL') {
    trpcCode = 'INTERNAL_SERVER_ERROR';
    message = INTERNAL_MESSAGE;
    details = undefined;
  }
  const data: AppErrorData = { code: trpcCode, httpStatus: HTTP_STATUS_OF[appCode], appCode };
  if (path !== undefined) data.path = path;
  if (details) data.details = details;
  return { code: TRPC_ERROR_CODES_BY_KEY[trpcCode], message, data };
}

const t = initTRPC.context<Context>().create({
  isServer: true,
  isDev: false,
  errorFormatter: ({ error, path }) => formatError(error, path),
});

export const router = t.router;
export const publicProcedure = t.procedure;
export const createCallerFactory = t.createCallerFactory;

/** Every procedure but `health`: the device must exist and not be revoked, checked on each call. */
export const authedProcedure = t.procedure.use(({ ctx, next }) => {
  const device: DeviceRecord | null = ctx.deviceId === null ? null : ctx.services.store.getDevice(ctx.deviceId);
  if (!device) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'this procedure needs a paired device' });
  if (device.revokedAt !== null) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'device was revoked' });
  return next({ ctx: { device } });
});

/**
 * Procedures that change how the assistant works (settings, keys, budgets,
 * skills, channels, other devices, the audit log): for the owner's devices,
 * the local operator and the manager. A device paired for chat gets FORBIDDEN.
 */
export const ownerProcedure = authedProcedure.use(({ ctx, next }) => {
  if (!isOwnerDevice(ctx.device)) {
    throw new AppError('FORBIDDEN', "this device is paired for chat only; settings, keys and devices are changed from one of the owner's devices");
  }
  return next();
});

/** Procedures for the manager device only (kind `manager`, registered through a manager ticket). */
export const managerProcedure = authedProcedure.use(({ ctx, next }) => {
  if (ctx.device.kind !== 'manager') throw new TRPCError({ code: 'FORBIDDEN', message: 'only the manager may call this procedure' });
  const admin = ctx.services.admin;
  if (!admin) throw new AppError('NOT_CONFIGURED', 'this gateway has no admin service');
  return next({ ctx: { admin } });
});

/** Procedures about skills: need the skill runtime. */
export const skillsProcedure = authedProcedure.use(({ ctx, next }) => {
  const skills = ctx.services.skills;
  if (!skills) throw new AppError('NOT_CONFIGURED', 'this gateway runs without skills');
  return next({ ctx: { skills } });
});

/** Owner-only procedures about skills (enable, secrets, settings, revoking approvals). */
export const skillsOwnerProcedure = ownerProcedure.use(({ ctx, next }) => {
  const skills = ctx.services.skills;
  if (!skills) throw new AppError('NOT_CONFIGURED', 'this gateway runs without skills');
  return next({ ctx: { skills } });
});

/** Procedures that start a turn: refused while the gateway drains for a restart. */
export const turnProcedure = authedProcedure.use(({ ctx, next }) => {
  if (ctx.services.admin?.draining) {
    throw new AppError('CONFLICT', 'the assistant is restarting; send again in a moment', { details: { retryAfterMs: 2_000 } });
  }
  return next();
});
