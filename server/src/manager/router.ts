/**
 * The manager's procedures (tRPC over HTTP at /trpc and over WebSocket at
 * /trpc). Inputs are the shared zod schemas of manager-accounts.ts. The
 * desktop app and the renderer import only `type ManagerRouter`.
 */
import { ManagerInputs } from '@autoclaw/shared';
import type { AuditEntry, AuditVerifyResult, AuthResult, Invite, ManagerUser, SetupStatus } from '@autoclaw/shared';
import { verifyAudit } from './audit';
import { billingRouter } from './billing-router';
import { instancesRouter } from './instances/router';
import { backupsRouter, releasesRouter, updatesRouter } from './updates';
import { operatorProcedure, ownerProcedure, protectedProcedure, publicProcedure, router } from './trpc';
import type { ManagerServices } from './trpc';

const OK = { ok: true as const };

const verifyOf = (s: ManagerServices): Promise<AuditVerifyResult> => verifyAudit(s.db, s.keys.publicKey, s.auditHeadPath, s.auditAnchor);

const auth = router({
  signUp: publicProcedure
    .input(ManagerInputs.signUp)
    .mutation(({ ctx, input }): Promise<AuthResult> => ctx.services.accounts.signUp(input, ctx.remote)),
  signIn: publicProcedure
    .input(ManagerInputs.signIn)
    .mutation(({ ctx, input }): Promise<AuthResult> => ctx.services.accounts.signIn(input, ctx.remote)),
  signOut: protectedProcedure.mutation(async ({ ctx }) => {
    await ctx.services.accounts.signOut(ctx.auth);
    return OK;
  }),
  /** Exchanges the current token for a new one (the old one stops working; reusing it ends the session). */
  refresh: publicProcedure
    .input(ManagerInputs.refresh)
    .mutation(({ ctx, input }): Promise<AuthResult> => ctx.services.accounts.refresh(input.token, ctx.remote)),
  me: protectedProcedure.query(({ ctx }): ManagerUser => ctx.user),
  /** Other sessions of the user end; this one stays. */
  changePassword: protectedProcedure.input(ManagerInputs.changePassword).mutation(async ({ ctx, input }) => {
    await ctx.services.accounts.changePassword(ctx.auth, input, ctx.remote);
    return OK;
  }),
  setupStatus: publicProcedure
    .input(ManagerInputs.setupStatus)
    .query(({ ctx, input }): Promise<SetupStatus> => ctx.services.accounts.setupStatus(input?.token)),
  completeSetup: publicProcedure
    .input(ManagerInputs.completeSetup)
    .mutation(({ ctx, input }): Promise<AuthResult> => ctx.services.accounts.completeSetup(input, ctx.remote)),
});

const invites = router({
  create: ownerProcedure
    .input(ManagerInputs.invitesCreate)
    .mutation(({ ctx, input }): Promise<Invite & { code: string }> => ctx.services.accounts.createInvite(ctx.auth, input ?? {})),
  list: ownerProcedure.query(({ ctx }): Promise<Invite[]> => ctx.services.accounts.listInvites()),
});

const audit = router({
  list: ownerProcedure
    .input(ManagerInputs.auditList)
    .query(({ ctx, input }): Promise<AuditEntry[]> => ctx.services.audit.list({ afterSeq: input?.afterSeq ?? 0, limit: input?.limit ?? 100 })),
  verify: ownerProcedure.query(({ ctx }): Promise<AuditVerifyResult> => verifyOf(ctx.services)),
});

/** What the `autoclaw` CLI does through a running manager (authenticated with DIR/operator.key). */
const operator = router({
  createUser: operatorProcedure
    .input(ManagerInputs.operatorCreateUser)
    .mutation(({ ctx, input }): Promise<ManagerUser> => ctx.services.accounts.createUser(input)),
  resetPassword: operatorProcedure.input(ManagerInputs.operatorResetPassword).mutation(async ({ ctx, input }) => {
    await ctx.services.accounts.resetPassword(input);
    return OK;
  }),
  verifyAudit: operatorProcedure.query(({ ctx }): Promise<AuditVerifyResult> => verifyOf(ctx.services)),
});

export const managerRouter = router({
  health: publicProcedure.query(({ ctx }) => ({
    ok: true as const,
    version: ctx.services.version,
    managerPublicKey: ctx.services.keys.publicKey,
    signup: ctx.services.config.signup,
  })),
  auth,
  invites,
  audit,
  operator,
  // ─── Mounted by the instances part (helper G) ─────────────────────────────
  instances: instancesRouter,
  releases: releasesRouter,
  updates: updatesRouter,
  backups: backupsRouter,
  billing: billingRouter,
  // devices: devicesRouter,
  // ──────────────────────────────────────────────────────────────────────────
});
