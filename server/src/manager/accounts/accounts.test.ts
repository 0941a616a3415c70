import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '@autoclaw/shared';
import type { ErrorCode } from '@autoclaw/shared';
import { accountsHarness } from './test-accounts';
import type { AccountsHarness } from './test-accounts';

const PW = 'correct horse battery';
const IP = '127.0.0.1';

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<{ code: ErrorCode; message: string; details?: Record<string, unknown> }> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    if (AppError.is(err)) return { code: err.code, message: err.message, ...(err.details ? { details: { ...err.details } } : {}) };
    throw err;
  }
  throw new Error('expected an AppError');
}

describe('accounts', () => {
  let h: AccountsHarness;
  afterEach(() => h?.close());

  describe('sign-up modes', () => {
    it('closed: nobody signs up; the operator creates accounts, the first one is the owner', async () => {
      h = accountsHarness('closed');
      expect(await codeOf(h.accounts.signUp({ email: 'a@example.com', password: PW }, IP))).toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(/sign-up is closed/) });
      expect(h.accounts.userCount()).toBe(0);
      expect(await h.accounts.createUser({ email: 'Boss@Example.com', password: PW })).toMatchObject({ email: 'boss@example.com', role: 'owner' });
      expect(await h.accounts.createUser({ email: 'b@example.com', password: PW })).toMatchObject({ role: 'member' });
      expect(await codeOf(h.accounts.createUser({ email: 'BOSS@example.com', password: PW }))).toMatchObject({ code: 'CONFLICT' });
      expect(h.audit.list().map((e) => e.action)).toEqual(['user.create', 'user.create']);
    });

    it('open: anyone signs up as a member and is signed in; emails are unique, case-insensitively', async () => {
      h = accountsHarness('open');
      const announced: string[] = [];
      const off = h.accounts.onUserCreated((u) => announced.push(u.email));
      h.accounts.onUserCreated(() => {
        throw new Error('a broken listener does not fail the sign-up');
      });
      const res = await h.accounts.signUp({ email: 'New@Example.com', password: PW }, IP);
      expect(res.user).toMatchObject({ email: 'new@example.com', role: 'member' });
      expect(h.accounts.authenticate(res.token).user.id).toBe(res.user.id);
      expect(await codeOf(h.accounts.signUp({ email: 'new@example.com', password: PW }, IP))).toMatchObject({ code: 'CONFLICT' });
      expect(h.audit.list().map((e) => e.action)).toEqual(['auth.signUp']);
      off();
      await h.accounts.createUser({ email: 'later@example.com', password: PW });
      expect(announced).toEqual(['new@example.com']);
    });

    it('invite: needs an owner-made code, single use, optionally bound to an email, expiring', async () => {
      h = accountsHarness('invite');
      const owner = await h.accounts.createUser({ email: 'owner@example.com', password: PW });
      const auth = { user: owner, sessionId: 'n/a' };
      expect(await codeOf(h.accounts.signUp({ email: 'x@example.com', password: PW }, IP))).toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(/invite code/) });
      const invite = h.accounts.createInvite(auth, {});
      expect(invite.code).toMatch(/^inv_/);
      const res = await h.accounts.signUp({ email: 'x@example.com', password: PW, inviteCode: invite.code }, IP);
      expect(res.user.role).toBe('member');
      expect(await codeOf(h.accounts.signUp({ email: 'y@example.com', password: PW, inviteCode: invite.code }, IP))).toMatchObject({ code: 'FORBIDDEN' });

      const bound = h.accounts.createInvite(auth, { email: 'z@example.com' });
      expect(await codeOf(h.accounts.signUp({ email: 'other@example.com', password: PW, inviteCode: bound.code }, IP))).toMatchObject({ message: expect.stringMatching(/another email/) });
      await h.accounts.signUp({ email: 'Z@example.com', password: PW, inviteCode: bound.code }, IP);

      const shortLived = h.accounts.createInvite(auth, { ttlHours: 1 });
      h.clock.now += 3_600_001;
      expect(await codeOf(h.accounts.signUp({ email: 'late@example.com', password: PW, inviteCode: shortLived.code }, IP))).toMatchObject({ code: 'FORBIDDEN' });
      expect(h.accounts.listInvites().map((i) => i.usedAt !== null)).toEqual([false, true, true]);
      expect(h.accounts.listInvites().every((i) => i.code === undefined)).toBe(true);
      expect(h.auditOk()).toBe(true);
    });
  });

  describe('the one-time setup link', () => {
    it('creates the owner once; a used, replaced or expired link is refused', async () => {
      h = accountsHarness('closed');
      const first = h.accounts.issueSetupLink();
      const second = h.accounts.issueSetupLink();
      expect(first && second).toBeTruthy();
      expect(h.accounts.setupStatus(first!.token)).toEqual({ open: true, tokenValid: false, signup: 'closed' });
      expect(await codeOf(h.accounts.completeSetup({ token: first!.token, email: 'o@example.com', password: PW }, IP))).toMatchObject({ code: 'FORBIDDEN' });
      expect(h.accounts.setupStatus(second!.token).tokenValid).toBe(true);
      const res = await h.accounts.completeSetup({ token: second!.token, email: 'O@example.com', password: PW }, IP);
      expect(res.user).toMatchObject({ email: 'o@example.com', role: 'owner' });
      expect(h.accounts.setupStatus(second!.token)).toEqual({ open: false, tokenValid: false, signup: 'closed' });
      expect(await codeOf(h.accounts.completeSetup({ token: second!.token, email: 'p@example.com', password: PW }, IP))).toMatchObject({ code: 'CONFLICT' });
      expect(h.accounts.issueSetupLink()).toBeNull();
      expect(h.accounts.userCount()).toBe(1);
      expect(h.audit.list().map((e) => e.action)).toEqual(['auth.setup']);
    });

    it('expires', async () => {
      h = accountsHarness('closed', { setupTtlMs: 60_000 });
      const link = h.accounts.issueSetupLink()!;
      h.clock.now += 60_001;
      expect(h.accounts.setupStatus(link.token).tokenValid).toBe(false);
      expect(await codeOf(h.accounts.completeSetup({ token: link.token, email: 'o@example.com', password: PW }, IP))).toMatchObject({ code: 'FORBIDDEN' });
      expect(h.accounts.userCount()).toBe(0);
    });
  });

  describe('sign-in and sessions', () => {
    it('signs in, answers "me", signs out; wrong password and unknown email get the same error', async () => {
      h = accountsHarness('closed');
      await h.accounts.createUser({ email: 'a@example.com', password: PW });
      const res = await h.accounts.signIn({ email: 'A@example.com', password: PW }, IP);
      const auth = h.accounts.authenticate(res.token);
      expect(auth.user.email).toBe('a@example.com');
      const wrong = await codeOf(h.accounts.signIn({ email: 'a@example.com', password: 'not the password' }, IP));
      const unknown = await codeOf(h.accounts.signIn({ email: 'nobody@example.com', password: 'not the password' }, IP));
      expect(wrong).toEqual({ code: 'UNAUTHORIZED', message: 'wrong email or password' });
      expect(unknown).toEqual(wrong);
      h.accounts.signOut(auth);
      expect(await codeOf(() => h.accounts.authenticate(res.token))).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(await codeOf(() => h.accounts.checkSession(auth.sessionId))).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(h.revoked).toEqual([{ ids: [auth.sessionId], reason: 'signed out' }]);
      expect(h.audit.list().map((e) => e.action)).toEqual(['user.create', 'auth.signIn', 'auth.signOut']);
    });

    it('rotates tokens on refresh; a reused old token ends the whole session', async () => {
      h = accountsHarness('closed');
      await h.accounts.createUser({ email: 'a@example.com', password: PW });
      const t1 = await h.accounts.signIn({ email: 'a@example.com', password: PW }, IP);
      const t2 = h.accounts.refresh(t1.token, IP);
      expect(t2.token).not.toBe(t1.token);
      expect(h.accounts.authenticate(t2.token).user.id).toBe(t1.user.id);
      // Requests already on their way with the old token still pass for a few seconds…
      expect(h.accounts.authenticate(t1.token).sessionId).toBe(h.accounts.authenticate(t2.token).sessionId);
      // …but refreshing with it again is reuse: the session ends for everyone holding it.
      expect(await codeOf(() => h.accounts.refresh(t1.token, IP))).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/old tokens was used again/) });
      expect(await codeOf(() => h.accounts.authenticate(t2.token))).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(h.revoked.map((r) => r.reason)).toEqual(['token reuse']);
      expect(h.audit.list().at(-1)).toMatchObject({ actor: 'system', action: 'auth.tokenReuse' });
    });

    it('a rotated token used after the grace period also ends the session', async () => {
      h = accountsHarness('closed', { sessions: { rotationGraceMs: 1_000 } });
      await h.accounts.createUser({ email: 'a@example.com', password: PW });
      const t1 = await h.accounts.signIn({ email: 'a@example.com', password: PW }, IP);
      const t2 = h.accounts.refresh(t1.token, IP);
      h.clock.now += 1_001;
      expect(await codeOf(() => h.accounts.authenticate(t1.token))).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(await codeOf(() => h.accounts.authenticate(t2.token))).toMatchObject({ code: 'UNAUTHORIZED' });
    });

    it('tokens expire unless refreshed; sessions end at their lifetime regardless', async () => {
      h = accountsHarness('closed', { sessions: { tokenTtlMs: 1_000, sessionTtlMs: 2_500 } });
      await h.accounts.createUser({ email: 'a@example.com', password: PW });
      const t1 = await h.accounts.signIn({ email: 'a@example.com', password: PW }, IP);
      expect(t1.expiresAt - h.clock.now).toBe(1_000);
      h.clock.now += 900;
      const t2 = h.accounts.refresh(t1.token, IP);
      h.clock.now += 900;
      expect(h.accounts.authenticate(t2.token).user.email).toBe('a@example.com');
      h.clock.now += 200;
      expect(await codeOf(() => h.accounts.authenticate(t2.token))).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(await codeOf(() => h.accounts.refresh(t2.token, IP))).toMatchObject({ code: 'UNAUTHORIZED' });

      const s = await h.accounts.signIn({ email: 'a@example.com', password: PW }, IP);
      let token = s.token;
      for (let i = 0; i < 3; i++) {
        h.clock.now += 800;
        token = h.accounts.refresh(token, IP).token;
      }
      expect(h.clock.now - (s.sessionExpiresAt - 2_500)).toBe(2_400);
      h.clock.now += 101;
      expect(await codeOf(() => h.accounts.authenticate(token))).toMatchObject({ code: 'UNAUTHORIZED' });
    });

    it('a password change ends the other sessions, keeps this one, and needs the current password', async () => {
      h = accountsHarness('closed');
      await h.accounts.createUser({ email: 'a@example.com', password: PW });
      const here = await h.accounts.signIn({ email: 'a@example.com', password: PW }, IP);
      const there = await h.accounts.signIn({ email: 'a@example.com', password: PW }, '10.0.0.2');
      const auth = h.accounts.authenticate(here.token);
      expect(await codeOf(h.accounts.changePassword(auth, { currentPassword: 'wrong password', newPassword: 'new password 1' }, IP))).toMatchObject({
        code: 'UNAUTHORIZED',
      });
      await h.accounts.changePassword(auth, { currentPassword: PW, newPassword: 'new password 1' }, IP);
      expect(h.accounts.authenticate(here.token).user.email).toBe('a@example.com');
      expect(await codeOf(() => h.accounts.authenticate(there.token))).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(h.revoked.at(-1)?.reason).toBe('password changed');
      expect(await codeOf(h.accounts.signIn({ email: 'a@example.com', password: PW }, IP))).toMatchObject({ code: 'UNAUTHORIZED' });
      await h.accounts.signIn({ email: 'a@example.com', password: 'new password 1' }, IP);
    });

    it("the operator's reset ends every session", async () => {
      h = accountsHarness('closed');
      await h.accounts.createUser({ email: 'a@example.com', password: PW });
      const s = await h.accounts.signIn({ email: 'a@example.com', password: PW }, IP);
      await h.accounts.resetPassword({ email: 'a@example.com', password: 'reset password 1' });
      expect(await codeOf(() => h.accounts.authenticate(s.token))).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(await codeOf(h.accounts.resetPassword({ email: 'nobody@example.com', password: 'reset password 1' }))).toMatchObject({ code: 'NOT_FOUND' });
      await h.accounts.signIn({ email: 'a@example.com', password: 'reset password 1' }, IP);
      expect(h.audit.list().map((e) => [e.actor, e.action])).toContainEqual(['operator', 'auth.resetPassword']);
      expect(h.auditOk()).toBe(true);
    });
  });

  describe('sign-in rate limits', () => {
    it('per account: refuses even the right password with RATE_LIMITED and the wait, until the window passes', async () => {
      h = accountsHarness('closed', { limits: { perAccount: 3, perAddress: 100, windowMs: 60_000 } });
      await h.accounts.createUser({ email: 'a@example.com', password: PW });
      for (let i = 0; i < 3; i++) {
        expect((await codeOf(h.accounts.signIn({ email: 'a@example.com', password: 'bad password' }, `10.0.0.${i}`))).code).toBe('UNAUTHORIZED');
      }
      const limited = await codeOf(h.accounts.signIn({ email: 'a@example.com', password: PW }, '10.9.9.9'));
      expect(limited).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/for this account; try again in 60 s/), details: { retryAfterMs: 60_000 } });
      // Other accounts are not affected; and unknown emails are limited the same way (no hint that they do not exist).
      await h.accounts.createUser({ email: 'b@example.com', password: PW });
      await h.accounts.signIn({ email: 'b@example.com', password: PW }, '10.9.9.9');
      h.clock.now += 60_000;
      await h.accounts.signIn({ email: 'a@example.com', password: PW }, '10.9.9.9');
    });

    it('per address: many accounts tried from one address', async () => {
      h = accountsHarness('closed', { limits: { perAccount: 100, perAddress: 3, windowMs: 60_000 } });
      await h.accounts.createUser({ email: 'a@example.com', password: PW });
      for (let i = 0; i < 3; i++) await codeOf(h.accounts.signIn({ email: `guess${i}@example.com`, password: 'bad password' }, '10.0.0.1'));
      h.clock.now += 10_000;
      expect(await codeOf(h.accounts.signIn({ email: 'a@example.com', password: PW }, '10.0.0.1'))).toMatchObject({
        code: 'RATE_LIMITED',
        message: expect.stringMatching(/from this address/),
        details: { retryAfterMs: 50_000 },
      });
      await h.accounts.signIn({ email: 'a@example.com', password: PW }, '10.0.0.2');
    });
  });
});
