/**
 * Accounts: sign-up by mode, the one-time setup link, sign-in (throttled
 * per account and address with growing delays, see throttle.ts), sign-out,
 * token refresh, password change and the operator's user creation and
 * password reset. Every change lands in the audit log. Wrong password and
 * unknown email answer alike, in about the same time. All state is in the
 * database: any replica serves any request.
 */
import { AppError, AUTH_MAX_SKEW_MS, authPayload, SIGNIN_PROOF_NONCE } from '@autoclaw/shared';
import type { AuthResult, Invite, ManagerUser, SetupStatus, SignInDeviceProof, SignupMode, UserRole } from '@autoclaw/shared';
import { deviceIdFromPublicKey, parsePublicKey, verifyPayload } from '../../security';
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
import { createThrottle, DEFAULT_SIGNIN_LIMITS } from './throttle';
import type { SignInAttempt, SignInLimits } from './throttle';
import { createUserStore, toUser } from './users';

export type { SignInLimits } from './throttle';

/** The signed-in user of a request or socket. */
export interface SignedIn {
  user: ManagerUser;
  sessionId: string;
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
  /** Whether a device key was paired with the instance of `email` (the instances part knows). */
  isPairedDevice?: (email: string, publicKey: string) => Promise<boolean>;
}

export interface AccountService {
  readonly signup: SignupMode;
  signUp(input: { email: string; password: string; inviteCode?: string | undefined }, remote: string): Promise<AuthResult>;
  signIn(input: { email: string; password: string; device?: SignInDeviceProof | undefined }, remote: string): Promise<AuthResult>;
  signOut(auth: SignedIn): Promise<void>;
  refresh(token: string, remote: string): Promise<AuthResult>;
  /** The user of a session token (HTTP bearer, WebSocket connect); UNAUTHORIZED otherwise. */
  authenticate(token: string): Promise<SignedIn>;
  /** Re-checks a socket's session on each call. */
  checkSession(sessionId: string): Promise<SignedIn>;
  changePassword(auth: SignedIn, input: { currentPassword: string; newPassword: string }, remote: string): Promise<void>;
  setupStatus(token?: string): Promise<SetupStatus>;
  /** A new one-time setup token while no account exists, else null. */
  issueSetupLink(): Promise<{ token: string; expiresAt: number } | null>;
  completeSetup(input: { token: string; email: string; password: string }, remote: string): Promise<AuthResult>;
  createInvite(auth: SignedIn, input: { email?: string | undefined; ttlHours?: number | undefined }): Promise<Invite & { code: string }>;
  listInvites(): Promise<Invite[]>;
  /** The operator (CLI) makes an account; the first one is the owner. */
  createUser(input: { email: string; password: string; role?: UserRole | undefined }): Promise<ManagerUser>;
  /** The operator (CLI) sets a new password; every session of the user ends. */
  resetPassword(input: { email: string; password: string }): Promise<void>;
  /**
   * Calls `listener` after each new account (sign-up, setup, operator), e.g.
   * to provision its instance. Errors are logged, never thrown to the caller.
   * Returns the unsubscribe function.
   */
  onUserCreated(listener: (user: ManagerUser) => unknown): () => void;
  userCount(): Promise<number>;
  userById(id: string): Promise<ManagerUser | null>;
  userByEmail(email: string): Promise<ManagerUser | null>;
  /** The sign-in limiter's style for another door (e.g. 'door'): failures per address, counted apart, in the database. */
  addressLimiter(scope: string): AddressLimiter;
}

export interface AddressLimiter {
  /** RATE_LIMITED (with retryAfterMs) while `remote` must wait after its failures. */
  check(remote: string): Promise<void>;
  failed(remote: string): Promise<void>;
}

const WRONG_CREDENTIALS = 'wrong email or password';

/** Opens the accounts part (migrating its tables, dropping sessions long ended). */
export async function createAccountService(opts: AccountServiceOptions): Promise<AccountService> {
  const { db, audit, now, logger } = opts;
  await migratePart(db, 'accounts', ACCOUNTS_MIGRATIONS);
  const throttle = createThrottle(db, now, { ...DEFAULT_SIGNIN_LIMITS, ...opts.limits });
  const users = createUserStore(db, now);
  const sessions = createSessionStore({
    db,
    now,
    ...(opts.sessions ? { timings: opts.sessions } : {}),
    async onRevoked(ids, reason) {
      if (reason === 'token reuse') {
        for (const id of ids) await audit.append({ actor: 'system', action: 'auth.tokenReuse', target: id, details: { revokedSession: id } });
        logger.warn('a rotated session token was used again; the session was revoked', { sessions: ids.length });
      }
      opts.onSessionsRevoked?.(ids, reason);
    },
  });
  await sessions.prune();
  const setup = createSetupLinks(db, now, (t) => users.count(t), opts.setupTtlMs);
  const invites = createInvites(db, now);
  let dummyHash: Promise<string> | null = null;
  const created = new Set<(user: ManagerUser) => unknown>();

  async function announce(user: ManagerUser): Promise<ManagerUser> {
    for (const listener of created) {
      try {
        await listener(user);
      } catch (err) {
        logger.error('a new-account listener failed', { err });
      }
    }
    return user;
  }

  function result(issued: IssuedToken, user: ManagerUser): AuthResult {
    return { token: issued.token, expiresAt: issued.expiresAt, sessionExpiresAt: issued.sessionExpiresAt, user };
  }

  async function signedIn(userId: string, sessionId: string): Promise<SignedIn> {
    const row = await users.byId(userId);
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

  /** The device key when `proof` shows a device paired with this account's instance; null otherwise (then it counts as any client). */
  async function pairedDevice(email: string, proof: SignInDeviceProof | undefined): Promise<string | null> {
    if (!proof || !opts.isPairedDevice) return null;
    const key = parsePublicKey(proof.publicKey);
    if (!key || Math.abs(now() - proof.timestamp) > AUTH_MAX_SKEW_MS) return null;
    const payload = authPayload(SIGNIN_PROOF_NONCE, deviceIdFromPublicKey(proof.publicKey), proof.timestamp);
    if (!verifyPayload(key, payload, proof.signature)) return null;
    return (await opts.isPairedDevice(email.toLowerCase(), proof.publicKey)) ? proof.publicKey : null;
  }

  async function failed(attempt: SignInAttempt, why: string): Promise<void> {
    await throttle.failed(attempt);
    logger.warn('sign-in refused', { remote: attempt.remote, reason: why, pairedDevice: attempt.deviceKey !== undefined });
  }

  return {
    signup: opts.signup,

    async signUp(input, remote) {
      if (opts.signup === 'closed') throw new AppError('FORBIDDEN', 'sign-up is closed on this manager; ask its operator for an account');
      if (opts.signup === 'invite') {
        if (input.inviteCode === undefined) throw new AppError('FORBIDDEN', 'sign-up needs an invite code from the owner');
        await throttle.check({ email: input.email, remote });
        try {
          await invites.check(input.inviteCode, input.email);
        } catch (err) {
          await throttle.addressFailed(remote);
          throw err;
        }
      }
      const passwordHash = await hashPassword(input.password);
      const user = await db.tx(async (t) => {
        const made = await users.insert(t, { email: input.email, passwordHash, role: 'member' });
        if (opts.signup === 'invite' && input.inviteCode !== undefined) await invites.consume(t, input.inviteCode, input.email, made.id);
        return made;
      });
      await audit.append({ actor: `user:${user.id}`, action: 'auth.signUp', target: user.email, details: { mode: opts.signup, remote } });
      const issued = await sessions.create(user.id, remote);
      return result(issued, await announce(user));
    },

    async signIn(input, remote) {
      const deviceKey = await pairedDevice(input.email, input.device);
      const attempt: SignInAttempt = deviceKey === null ? { email: input.email, remote } : { email: input.email, remote, deviceKey };
      const checked = await throttle.check(attempt);
      const row = await users.byEmail(input.email);
      const ok = await checkPassword(input.password, row?.password_hash);
      if (!row || !ok) {
        await failed(attempt, row ? 'wrong password' : 'unknown email');
        throw new AppError('UNAUTHORIZED', WRONG_CREDENTIALS);
      }
      await throttle.succeeded(attempt, checked);
      if (needsRehash(row.password_hash)) await users.setPasswordHash(row.id, await hashPassword(input.password));
      const issued = await sessions.create(row.id, remote);
      await audit.append({
        actor: `user:${row.id}`,
        action: 'auth.signIn',
        target: row.email,
        details: { remote, session: issued.sessionId, ...(deviceKey === null ? {} : { pairedDevice: deviceIdFromPublicKey(deviceKey) }) },
      });
      return result(issued, toUser(row));
    },

    async signOut(auth) {
      await sessions.revoke(auth.sessionId, 'signed out');
      await audit.append({ actor: `user:${auth.user.id}`, action: 'auth.signOut', target: auth.user.email, details: { session: auth.sessionId } });
    },

    async refresh(token, remote) {
      const issued = await sessions.refresh(token);
      const { user } = await signedIn((await sessions.check(issued.sessionId)).user_id, issued.sessionId);
      logger.debug('session refreshed', { remote });
      return result(issued, user);
    },

    async authenticate(token) {
      const session = await sessions.authenticate(token);
      return signedIn(session.user_id, session.id);
    },

    async checkSession(sessionId) {
      return signedIn((await sessions.check(sessionId)).user_id, sessionId);
    },

    async changePassword(auth, input, remote) {
      const attempt: SignInAttempt = { email: auth.user.email, remote };
      await throttle.check(attempt);
      const row = await users.byId(auth.user.id);
      if (!row || !(await verifyPassword(input.currentPassword, row.password_hash))) {
        await failed(attempt, 'wrong current password');
        throw new AppError('UNAUTHORIZED', 'the current password is wrong');
      }
      await users.setPasswordHash(row.id, await hashPassword(input.newPassword));
      const revoked = await sessions.revokeUser(row.id, 'password changed', auth.sessionId);
      await audit.append({ actor: `user:${row.id}`, action: 'auth.changePassword', target: row.email, details: { revokedSessions: revoked.length } });
    },

    async setupStatus(token) {
      const open = (await users.count()) === 0;
      return { open, tokenValid: token === undefined ? null : await setup.isValid(token), signup: opts.signup };
    },

    issueSetupLink: () => setup.issue(),

    async completeSetup(input, remote) {
      await throttle.check({ email: input.email, remote });
      if ((await users.count()) > 0) throw new AppError('CONFLICT', 'setup is already complete: sign in instead');
      if (!(await setup.isValid(input.token))) {
        await throttle.addressFailed(remote);
        throw new AppError('FORBIDDEN', 'this setup link is no longer valid (already used or expired); restart the manager for a new one');
      }
      const passwordHash = await hashPassword(input.password);
      const user = await db.tx(async (t) => {
        // Serialises two setups racing on two replicas: the second sees the owner.
        await db.lock(t, 'accounts:setup');
        if ((await users.count(t)) > 0) throw new AppError('CONFLICT', 'setup is already complete: sign in instead');
        await setup.consume(t, input.token);
        return users.insert(t, { email: input.email, passwordHash, role: 'owner' });
      });
      await audit.append({ actor: `user:${user.id}`, action: 'auth.setup', target: user.email, details: { role: 'owner', remote } });
      const issued = await sessions.create(user.id, remote);
      return result(issued, await announce(user));
    },

    async createInvite(auth, input) {
      const invite = await invites.create(auth.user.id, input);
      await audit.append({
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
      const user = await db.tx(async (t) => {
        // The first account is the owner: two operators racing must not both make one.
        await db.lock(t, 'accounts:setup');
        const role: UserRole = input.role ?? ((await users.count(t)) === 0 ? 'owner' : 'member');
        return users.insert(t, { email: input.email, passwordHash, role });
      });
      await audit.append({ actor: 'operator', action: 'user.create', target: user.email, details: { user: user.id, role: user.role } });
      return announce(user);
    },

    async resetPassword(input) {
      const row = await users.byEmail(input.email);
      if (!row) throw new AppError('NOT_FOUND', `no account with the email ${input.email}`);
      await users.setPasswordHash(row.id, await hashPassword(input.password));
      const revoked = await sessions.revokeUser(row.id, 'password reset');
      await audit.append({ actor: 'operator', action: 'auth.resetPassword', target: row.email, details: { revokedSessions: revoked.length } });
    },

    onUserCreated(listener) {
      created.add(listener);
      return () => created.delete(listener);
    },

    userCount: () => users.count(),
    async userById(id) {
      const row = await users.byId(id);
      return row ? toUser(row) : null;
    },
    async userByEmail(email) {
      const row = await users.byEmail(email);
      return row ? toUser(row) : null;
    },
    addressLimiter: (scope) => ({
      check: (remote) => throttle.checkAddress(remote, scope),
      failed: (remote) => throttle.addressFailed(remote, scope),
    }),
  };
}
