/**
 * The manager's tRPC instance: its context, the one error formatter
 * (AppError → wire, shared with the gateway) and the procedures by who may
 * call them. Other manager parts (instances, devices) build their routers
 * from these and are mounted in router.ts.
 */
import { initTRPC } from '@trpc/server';
import { AppError } from '@autoclaw/shared';
import type { ManagerUser } from '@autoclaw/shared';
import type { AccountService, SignedIn } from './accounts';
import type { AuditAnchorStore, AuditLog } from './audit';
import type { ManagerConfig } from './config';
import type { ManagerDb } from './db';
import { formatError } from './gateway-parts';
import type { Logger } from './gateway-parts';
import type { ManagerKeys } from './keys';

/**
 * What procedures reach. Other parts add their services here (e.g. helper
 * G's `instances`) — by editing this interface or by declaration merging
 * from their own file:
 *   declare module '../trpc' { interface ManagerServices { instances: InstanceService } }
 */
export interface ManagerServices {
  config: ManagerConfig;
  db: ManagerDb;
  accounts: AccountService;
  audit: AuditLog;
  /** The manager's public key, signer and master key (wrapDataKey/unwrapDataKey take `keys.masterKey`). */
  keys: ManagerKeys;
  /** Where the audit log's signed head lives (for audit.verify). */
  auditHeadPath: string;
  /** The copy of the head kept with the master key (for audit.verify). */
  auditAnchor?: AuditAnchorStore;
  now: () => number;
  logger: Logger;
  version: string;
}

export interface ManagerContext {
  services: ManagerServices;
  /** The remote address (rate limits, audit details). */
  remote: string;
  transport: 'http' | 'ws';
  /** HTTP: the bearer token of the request, if any. */
  bearer: string | null;
  /** WebSocket: the session the socket signed in with, if any (re-checked on every call). */
  sessionId: string | null;
  /** The request carried the operator key (the CLI on this machine). */
  operator: boolean;
}

const t = initTRPC.context<ManagerContext>().create({
  isServer: true,
  isDev: false,
  errorFormatter: ({ error, path }) => formatError(error, path),
});

export const router = t.router;
export const publicProcedure = t.procedure;
export const middleware = t.middleware;
export const createCallerFactory = t.createCallerFactory;

function signedInOf(ctx: ManagerContext): Promise<SignedIn> {
  if (ctx.sessionId !== null) return ctx.services.accounts.checkSession(ctx.sessionId);
  if (ctx.bearer !== null) return ctx.services.accounts.authenticate(ctx.bearer);
  return Promise.reject(new AppError('UNAUTHORIZED', 'sign in first (send the session token as "Authorization: Bearer <token>")'));
}

/** A signed-in user: `ctx.user` ({id, email, role, createdAt}) and `ctx.auth` ({user, sessionId}). */
export const protectedProcedure = t.procedure.use(async ({ ctx, next }) => {
  const auth = await signedInOf(ctx);
  const user: ManagerUser = auth.user;
  return next({ ctx: { auth, user } });
});

/** An owner of this manager. */
export const ownerProcedure = protectedProcedure.use(({ ctx, next }) => {
  if (ctx.user.role !== 'owner') throw new AppError('FORBIDDEN', 'only an owner of this manager may do this');
  return next();
});

/** The local operator (the `autoclaw` CLI, holding DIR/operator.key). */
export const operatorProcedure = t.procedure.use(({ ctx, next }) => {
  if (!ctx.operator) throw new AppError('UNAUTHORIZED', 'this procedure is for the operator CLI on the manager machine');
  return next();
});
