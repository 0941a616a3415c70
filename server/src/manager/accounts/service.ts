/**
 * Accounts: sign-up by mode, the one-time setup link, sign-in (rate-limited
 * per account and per address), sign-out, token refresh, password change
 * and the operator's user creation and password reset. Every change lands
 * in the audit log. Wrong password and unknown email answer alike, in about
 * the same time.
 */
import { AppError } from '@autoclaw/shared';
import type { AuthResult, Invite, ManagerUser, SetupStatus, SignupMode, UserRole } from '@autoclaw/shared';
import { createRateLimiter } from '../../security';
import type { AuditLog } from '../audit';
import { migratePart } from '../db';
import type { ManagerDb } from '../db';
import type { Logger } from '../gateway-parts';
import { createInvites } from './invites';
import { hashPassword, needsRehash, verifyPassword } from './passwords';
import { ACCOUNTS_MIGRATIONS } from './schema';
import { createSessionStore } from './sessions';
import type { IssuedToken, RevokeReason, SessionTimings } from './sessions';
import { createSetupLinks } from './setup-link';
import { createUserStore, toUser } from './users';

/** The signed-in user of a request or socket. */
export interface SignedIn {
  user: ManagerUser;
  sessionId: string;
}

export interface SignInLimits {
  /** Failed sign-ins per account within the window before it is refused (default 5). */
  perAccount: number;
  /** Failed attempts per address within the window (default 20). */
  perAddress: number;
  windowMs: number;
}

export interface AccountServiceOptions {
  db: ManagerDb;
  audit: AuditLog;
  signup: SignupMode;
  now: () => number;
  logger: Logger;
  limits?: Partial<SignInLimits>;
  sessions?: Partial<SessionTimings>;
  setupTtlMs?: number;
  /** Told about revoked sessions (the socket registry closes their sockets). */
  onSessionsRevoked?: (sessionIds: string[], reason: RevokeReason) => void;
}

export interface AccountService {
  readonly signup: SignupMode;
  signUp(input: { email: string; password: string; inviteCode?: string | undefined }, remote: string): Promise<AuthResult>;
  signIn(input: { email: string; password: string }, remote: string): Promise<AuthResult>;
  signOut(auth: SignedIn): void;
  refresh(token: string, remote: string): AuthResult;
  /** The user of a session token (HTTP bearer, WebSocket connect); UNAUTHORIZED otherwise. */
  authenticate(token: string): SignedIn;
  /** Re-checks a socket's session on each call. */
  checkSession(sessionId: string): SignedIn;
  changePassword(auth: SignedIn, input: { currentPassword: string; newPassword: string }, remote: string): Promise<void>;
  setupStatus(token?: string): SetupStatus;
  /** A new one-time setup token while no account exists, else null. */
  issueSetupLink(): { token: string; expiresAt: number } | null;
  completeSetup(input: { token: string; email: string; password: string }, remote: string): Promise<AuthResult>;
  createInvite(auth: SignedIn, input: { email?: string | undefined; ttlHours?: number | undefined }): Invite & { code: string };
  listInvites(): Invite[];
  /** The operator (CLI) makes an account; the first one is the owner. */
  createUser(input: { email: string; password: string; role?: UserRole | undefined }): Promise<ManagerUser>;
  /** The operator (CLI) sets a new password; every session of the user ends. */
  resetPassword(input: { email: string; password: string }): Promise<void>;
  /**
   * Calls `listener` after each new account (sign-up, setup, operator), e.g.
   * to provision its instance. Errors are logged, never thrown to the caller.
   * Returns the unsubscribe function.
   */
  onUserCreated(listener: (user: ManagerUser) => void): () => void;
  userCount(): number;
  userById(id: string): ManagerUser | null;
  userByEmail(email: string): ManagerUser | null;
}

const WRONG_CREDENTIALS = 'wrong email or password';

function waitText(ms: number): string {
  const s = Math.ceil(ms / 1000);
  return s < 120 ? `${s} s` : `${Math.ceil(s / 60)} min`;
}

export function createAccountService(opts: AccountServiceOptions): AccountService {
  const { db, audit, now, logger } = opts;
  migratePart(db, 'accounts', ACCOUNTS_MIGRATIONS);
  const limits: SignInLimits = { perAccount: 5, perAddress: 20, windowMs: 15 * 60_000, ...opts.limits };
  const byAccount = createRateLimiter({ now, limit: limits.perAccount, windowMs: limits.windowMs });
  const byAddress = createRateLimiter({ now, limit: limits.perAddress, windowMs: limits.windowMs });
  const users = createUserStore(db, now);
  const sessions = createSessionStore({
    db,
    now,
    ...(opts.sessions ? { timings: opts.sessions } : {}),
    onRevoked(ids, reason) {
      if (reason === 'token reuse') {
        for (const id of ids) audit.append({ actor: 'system', action: 'auth.tokenReuse', target: id, details: { revokedSession: id } });
        logger.warn('a rotated session token was used again; the session was revoked', { sessions: ids.length });
      }
      opts.onSessionsRevoked?.(ids, reason);
    },
  });
  sessions.prune();
  const setup = createSetupLinks(db, now, () => users.count(), opts.setupTtlMs);
  const invites = createInvites(db, now);
  let dummyHash: Promise<string> | null = null;
  const created = new Set<(user: ManagerUser) => void>();

  function announce(user: ManagerUser): ManagerUser {
    for (const listener of created) {
      try {
        listener(user);
      } catch (err) {
        logger.error('a new-account listener failed', { err });
      }
    }
    return user;
  }

  function result(issued: IssuedToken, user: ManagerUser): AuthResult {
    return { token: issued.token, expiresAt: issued.expiresAt, sessionExpiresAt: issued.sessionExpiresAt, user };
  }

  function throttle(email: string, remote: string): void {
    const account = byAccount.blockedFor(email);
    const address = byAddress.blockedFor(remote);
    const wait = Math.max(account, address);
    if (wait > 0) {
      const who = account >= address ? 'for this account' : 'from this address';
      throw new AppError('RATE_LIMITED', `too many failed sign-ins ${who}; try again in ${waitText(wait)}`, { details: { retryAfterMs: wait } });
    }
  }

  function failed(email: string, remote: string, why: string): void {
    byAccount.fail(email);
    byAddress.fail(remote);
    logger.warn('sign-in refused', { remote, reason: why });
  }

  function signedIn(userId: string, sessionId: string): SignedIn {
    const row = users.byId(userId);
    if (!row) throw new AppError('UNAUTHORIZED', 'this account no longer exists');
    return { user: toUser(row), sessionId };
  }

  async function checkPassword(password: string, hash: string | undefined): Promise<boolean> {
    if (hash !== undefined) return verifyPassword(password, hash);
    // Unknown email: spend the same time as a real check, then fail.
    dummyHash ??= hashPassword(`no account ${now()}`);
    await verifyPassword(password, await dummyHash);
    return false;
  }

  return {
    signup: opts.signup,

    async signUp(input, remote) {
      if (opts.signup === 'closed') throw new AppError('FORBIDDEN', 'sign-up is closed on this manager; ask its operator for an account');
      if (opts.signup === 'invite') {
        if (input.inviteCode === undefined) throw new AppError('FORBIDDEN', 'sign-up needs an invite code from the owner');
        throttle(input.email, remote);
        try {
          invites.check(input.inviteCode, input.email);
        } catch (err) {
          byAddress.fail(remote);
          throw err;
        }
      }
      const passwordHash = await hashPassword(input.password);
      const user = db.transaction(() => {
        const made = users.insert({ email: input.email, passwordHash, role: 'member' });
        if (opts.signup === 'invite' && input.inviteCode !== undefined) invites.consume(input.inviteCode, input.email, made.id);
        return made;
      }).immediate();
      audit.append({ actor: `user:${user.id}`, action: 'auth.signUp', target: user.email, details: { mode: opts.signup, remote } });
      const issued = sessions.create(user.id, remote);
      return result(issued, announce(user));
    },

    async signIn(input, remote) {
      throttle(input.email, remote);
      const row = users.byEmail(input.email);
      const ok = await checkPassword(input.password, row?.password_hash);
      if (!row || !ok) {
        failed(input.email, remote, row ? 'wrong password' : 'unknown email');
        throw new AppError('UNAUTHORIZED', WRONG_CREDENTIALS);
      }
      if (needsRehash(row.password_hash)) users.setPasswordHash(row.id, await hashPassword(input.password));
      const issued = sessions.create(row.id, remote);
      audit.append({ actor: `user:${row.id}`, action: 'auth.signIn', target: row.email, details: { remote, session: issued.sessionId } });
      return result(issued, toUser(row));
    },

    signOut(auth) {
      sessions.revoke(auth.sessionId, 'signed out');
      audit.append({ actor: `user:${auth.user.id}`, action: 'auth.signOut', target: auth.user.email, details: { session: auth.sessionId } });
    },

    refresh(token, remote) {
      const issued = sessions.refresh(token);
      const { user } = signedIn(sessions.check(issued.sessionId).user_id, issued.sessionId);
      logger.debug('session refreshed', { remote });
      return result(issued, user);
    },

    authenticate(token) {
      const session = sessions.authenticate(token);
      return signedIn(session.user_id, session.id);
    },

    checkSession(sessionId) {
      return signedIn(sessions.check(sessionId).user_id, sessionId);
    },

    async changePassword(auth, input, remote) {
      throttle(auth.user.email, remote);
      const row = users.byId(auth.user.id);
      if (!row || !(await verifyPassword(input.currentPassword, row.password_hash))) {
        failed(auth.user.email, remote, 'wrong current password');
        throw new AppError('UNAUTHORIZED', 'the current password is wrong');
      }
      users.setPasswordHash(row.id, await hashPassword(input.newPassword));
      const revoked = sessions.revokeUser(row.id, 'password changed', auth.sessionId);
      audit.append({ actor: `user:${row.id}`, action: 'auth.changePassword', target: row.email, details: { revokedSessions: revoked.length } });
    },

    setupStatus(token) {
      const open = users.count() === 0;
      return { open, tokenValid: token === undefined ? null : setup.isValid(token), signup: opts.signup };
    },

    issueSetupLink: () => setup.issue(),

    async completeSetup(input, remote) {
      const failure = (): AppError => {
        byAddress.fail(remote);
        return new AppError('FORBIDDEN', 'this setup link is no longer valid (already used or expired); restart the manager for a new one');
      };
      throttle(input.email, remote);
      if (users.count() > 0) throw new AppError('CONFLICT', 'setup is already complete: sign in instead');
      if (!setup.isValid(input.token)) throw failure();
      const passwordHash = await hashPassword(input.password);
      const user = db.transaction(() => {
        if (users.count() > 0) throw new AppError('CONFLICT', 'setup is already complete: sign in instead');
        setup.consume(input.token);
        return users.insert({ email: input.email, passwordHash, role: 'owner' });
      }).immediate();
      audit.append({ actor: `user:${user.id}`, action: 'auth.setup', target: user.email, details: { role: 'owner', remote } });
      const issued = sessions.create(user.id, remote);
      return result(issued, announce(user));
    },

    createInvite(auth, input) {
      const invite = invites.create(auth.user.id, input);
      audit.append({
        actor: `user:${auth.user.id}`,
        action: 'invite.create',
        target: invite.email,
        details: { invite: invite.id, expiresAt: invite.expiresAt },
      });
      return invite;
    },

    listInvites: () => invites.list(),

    async createUser(input) {
      const passwordHash = await hashPassword(input.password);
      const user = db.transaction(() => {
        const role: UserRole = input.role ?? (users.count() === 0 ? 'owner' : 'member');
        return users.insert({ email: input.email, passwordHash, role });
      }).immediate();
      audit.append({ actor: 'operator', action: 'user.create', target: user.email, details: { user: user.id, role: user.role } });
      return announce(user);
    },

    async resetPassword(input) {
      const row = users.byEmail(input.email);
      if (!row) throw new AppError('NOT_FOUND', `no account with the email ${input.email}`);
      users.setPasswordHash(row.id, await hashPassword(input.password));
      const revoked = sessions.revokeUser(row.id, 'password reset');
      audit.append({ actor: 'operator', action: 'auth.resetPassword', target: row.email, details: { revokedSessions: revoked.length } });
    },

    onUserCreated(listener) {
      created.add(listener);
      return () => created.delete(listener);
    },

    userCount: () => users.count(),
    userById(id) {
      const row = users.byId(id);
      return row ? toUser(row) : null;
    },
    userByEmail(email) {
      const row = users.byEmail(email);
      return row ? toUser(row) : null;
    },
  };
}
