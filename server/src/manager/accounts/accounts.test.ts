import { afterEach, describe, expect, it } from 'vitest';
import { AppError, authPayload, SIGNIN_PROOF_NONCE } from '@autoclaw/shared';
import type { ErrorCode } from '@autoclaw/shared';
import { generateDeviceKey, signPayload } from '../../security';
import { testEngine } from '../db/test-db';
import { silentLogger } from '../gateway-parts';
import { createAccountService } from './service';
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

describe(`accounts (${testEngine()})`, () => {
  let h: AccountsHarness;
  afterEach(async () => h?.close());

  describe('sign-up modes', () => {
    it('closed: nobody signs up; the operator creates accounts, the first one is the owner', async () => {
      h = await accountsHarness('closed');
      expect(await codeOf(h.accounts.signUp({ email: 'a@example.com', password: PW }, IP))).toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(/sign-up is closed/) });
      expect(await h.accounts.userCount()).toBe(0);
      expect(await h.accounts.createUser({ email: 'Boss@Example.com', password: PW })).toMatchObject({ email: 'boss@example.com', role: 'owner' });
      expect(await h.accounts.createUser({ email: 'b@example.com', password: PW })).toMatchObject({ role: 'member' });
      expect(await codeOf(h.accounts.createUser({ email: 'BOSS@example.com', password: PW }))).toMatchObject({ code: 'CONFLICT' });
      expect((await h.audit.list()).map((e) => e.action)).toEqual(['user.create', 'user.create']);
    });

    it('open: anyone signs up as a member and is signed in; emails are unique, case-insensitively', async () => {
      h = await accountsHarness('open');
      const announced: string[] = [];
      const off = h.accounts.onUserCreated((u) => announced.push(u.email));
      h.accounts.onUserCreated(() => {
        throw new Error('a broken listener does not fail the sign-up');
      });
      const res = await h.accounts.signUp({ email: 'New@Example.com', password: PW }, IP);
      expect(res.user).toMatchObject({ email: 'new@example.com', role: 'member' });
      expect((await h.accounts.authenticate(res.token)).user.id).toBe(res.user.id);
      expect(await codeOf(h.accounts.signUp({ email: 'new@example.com', password: PW }, IP))).toMatchObject({ code: 'CONFLICT' });
      expect((await h.audit.list()).map((e) => e.action)).toEqual(['auth.signUp']);
      off();
      await h.accounts.createUser({ email: 'later@example.com', password: PW });
      expect(announced).toEqual(['new@example.com']);
    });

    it('invite: needs an owner-made code, single use, optionally bound to an email, expiring', async () => {
      h = await accountsHarness('invite');
      const owner = await h.accounts.createUser({ email: 'owner@example.com', password: PW });
      const auth = { user: owner, sessionId: 'n/a' };
      expect(await codeOf(h.accounts.signUp({ email: 'x@example.com', password: PW }, IP))).toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(/invite code/) });
      const invite = await h.accounts.createInvite(auth, {});
      expect(invite.code).toMatch(/^inv_/);
      const res = await h.accounts.signUp({ email: 'x@example.com', password: PW, inviteCode: invite.code }, IP);
      expect(res.user.role).toBe('member');
      expect(await codeOf(h.accounts.signUp({ email: 'y@example.com', password: PW, inviteCode: invite.code }, IP))).toMatchObject({ code: 'FORBIDDEN' });

      h.clock.now += 1;
      const bound = await h.accounts.createInvite(auth, { email: 'z@example.com' });
      expect(await codeOf(h.accounts.signUp({ email: 'other@example.com', password: PW, inviteCode: bound.code }, IP))).toMatchObject({ message: expect.stringMatching(/another email/) });
      await h.accounts.signUp({ email: 'Z@example.com', password: PW, inviteCode: bound.code }, IP);

      h.clock.now += 1;
      const shortLived = await h.accounts.createInvite(auth, { ttlHours: 1 });
      h.clock.now += 3_600_001;
      expect(await codeOf(h.accounts.signUp({ email: 'late@example.com', password: PW, inviteCode: shortLived.code }, IP))).toMatchObject({ code: 'FORBIDDEN' });
      expect((await h.accounts.listInvites()).map((i) => i.usedAt !== null)).toEqual([false, true, true]);
      expect((await h.accounts.listInvites()).every((i) => i.code === undefined)).toBe(true);
      expect(await h.auditOk()).toBe(true);
    });
  });

  describe('the one-time setup link', () => {
    it('creates the owner once; a used, replaced (SQLite) or expired link is refused', async () => {
      h = await accountsHarness('closed');
      const first = await h.accounts.issueSetupLink();
      const second = await h.accounts.issueSetupLink();
      expect(first && second).toBeTruthy();
      if (testEngine() === 'sqlite') {
        // One manager per database: a restart's link replaces the one printed before.
        expect(await h.accounts.setupStatus(first!.token)).toEqual({ open: true, tokenValid: false, signup: 'closed' });
        expect(await codeOf(h.accounts.completeSetup({ token: first!.token, email: 'o@example.com', password: PW }, IP))).toMatchObject({ code: 'FORBIDDEN' });
      } else {
        // Replicas each print their own link: all work until one is used.
        expect(await h.accounts.setupStatus(first!.token)).toEqual({ open: true, tokenValid: true, signup: 'closed' });
      }
      expect((await h.accounts.setupStatus(second!.token)).tokenValid).toBe(true);
      const res = await h.accounts.completeSetup({ token: second!.token, email: 'O@example.com', password: PW }, IP);
      expect(res.user).toMatchObject({ email: 'o@example.com', role: 'owner' });
      expect(await h.accounts.setupStatus(second!.token)).toEqual({ open: false, tokenValid: false, signup: 'closed' });
      expect(await codeOf(h.accounts.completeSetup({ token: second!.token, email: 'p@example.com', password: PW }, IP))).toMatchObject({ code: 'CONFLICT' });
      expect(await h.accounts.issueSetupLink()).toBeNull();
      expect(await h.accounts.userCount()).toBe(1);
      expect((await h.audit.list()).map((e) => e.action)).toEqual(['auth.setup']);
    });

    it('expires', async () => {
      h = await accountsHarness('closed', { setupTtlMs: 60_000 });
      const link = (await h.accounts.issueSetupLink())!;
      h.clock.now += 60_001;
      expect((await h.accounts.setupStatus(link.token)).tokenValid).toBe(false);
      expect(await codeOf(h.accounts.completeSetup({ token: link.token, email: 'o@example.com', password: PW }, IP))).toMatchObject({ code: 'FORBIDDEN' });
      expect(await h.accounts.userCount()).toBe(0);
    });
  });

  describe('sign-in and sessions', () => {
    it('signs in, answers "me", signs out; wrong password and unknown email get the same error', async () => {
      h = await accountsHarness('closed');
      await h.accounts.createUser({ email: 'a@example.com', password: PW });
      const res = await h.accounts.signIn({ email: 'A@example.com', password: PW }, IP);
      const auth = await h.accounts.authenticate(res.token);
      expect(auth.user.email).toBe('a@example.com');
      const wrong = await codeOf(h.accounts.signIn({ email: 'a@example.com', password: 'not the password' }, IP));
      const unknown = await codeOf(h.accounts.signIn({ email: 'nobody@example.com', password: 'not the password' }, IP));
      expect(wrong).toEqual({ code: 'UNAUTHORIZED', message: 'wrong email or password' });
      expect(unknown).toEqual(wrong);
      await h.accounts.signOut(auth);
      expect(await codeOf(h.accounts.authenticate(res.token))).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(await codeOf(h.accounts.checkSession(auth.sessionId))).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(h.revoked).toEqual([{ ids: [auth.sessionId], reason: 'signed out' }]);
      expect((await h.audit.list()).map((e) => e.action)).toEqual(['user.create', 'auth.signIn', 'auth.signOut']);
    });

    it('rotates tokens on refresh; a reused old token ends the whole session', async () => {
      h = await accountsHarness('closed');
      await h.accounts.createUser({ email: 'a@example.com', password: PW });
      const t1 = await h.accounts.signIn({ email: 'a@example.com', password: PW }, IP);
      const t2 = await h.accounts.refresh(t1.token, IP);
      expect(t2.token).not.toBe(t1.token);
      expect((await h.accounts.authenticate(t2.token)).user.id).toBe(t1.user.id);
      // Requests already on their way with the old token still pass for a few seconds…
      expect((await h.accounts.authenticate(t1.token)).sessionId).toBe((await h.accounts.authenticate(t2.token)).sessionId);
      // …but refreshing with it again is reuse: the session ends for everyone holding it.
      expect(await codeOf(h.accounts.refresh(t1.token, IP))).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/old tokens was used again/) });
      expect(await codeOf(h.accounts.authenticate(t2.token))).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(h.revoked.map((r) => r.reason)).toEqual(['token reuse']);
      expect((await h.audit.list()).at(-1)).toMatchObject({ actor: 'system', action: 'auth.tokenReuse' });
    });

    it('a rotated token used after the grace period also ends the session', async () => {
      h = await accountsHarness('closed', { sessions: { rotationGraceMs: 1_000 } });
      await h.accounts.createUser({ email: 'a@example.com', password: PW });
      const t1 = await h.accounts.signIn({ email: 'a@example.com', password: PW }, IP);
      const t2 = await h.accounts.refresh(t1.token, IP);
      h.clock.now += 1_001;
      expect(await codeOf(h.accounts.authenticate(t1.token))).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(await codeOf(h.accounts.authenticate(t2.token))).toMatchObject({ code: 'UNAUTHORIZED' });
    });

    it('tokens expire unless refreshed; sessions end at their lifetime regardless', async () => {
      h = await accountsHarness('closed', { sessions: { tokenTtlMs: 1_000, sessionTtlMs: 2_500 } });
      await h.accounts.createUser({ email: 'a@example.com', password: PW });
      const t1 = await h.accounts.signIn({ email: 'a@example.com', password: PW }, IP);
      expect(t1.expiresAt - h.clock.now).toBe(1_000);
      h.clock.now += 900;
      const t2 = await h.accounts.refresh(t1.token, IP);
      h.clock.now += 900;
      expect((await h.accounts.authenticate(t2.token)).user.email).toBe('a@example.com');
      h.clock.now += 200;
      expect(await codeOf(h.accounts.authenticate(t2.token))).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(await codeOf(h.accounts.refresh(t2.token, IP))).toMatchObject({ code: 'UNAUTHORIZED' });

      const s = await h.accounts.signIn({ email: 'a@example.com', password: PW }, IP);
      let token = s.token;
      for (let i = 0; i < 3; i++) {
        h.clock.now += 800;
        token = (await h.accounts.refresh(token, IP)).token;
      }
      expect(h.clock.now - (s.sessionExpiresAt - 2_500)).toBe(2_400);
      h.clock.now += 101;
      expect(await codeOf(h.accounts.authenticate(token))).toMatchObject({ code: 'UNAUTHORIZED' });
    });

    it('a password change ends the other sessions, keeps this one, and needs the current password', async () => {
      h = await accountsHarness('closed');
      await h.accounts.createUser({ email: 'a@example.com', password: PW });
      const here = await h.accounts.signIn({ email: 'a@example.com', password: PW }, IP);
      const there = await h.accounts.signIn({ email: 'a@example.com', password: PW }, '10.0.0.2');
      const auth = await h.accounts.authenticate(here.token);
      expect(await codeOf(h.accounts.changePassword(auth, { currentPassword: 'wrong password', newPassword: 'new password 1' }, IP))).toMatchObject({
        code: 'UNAUTHORIZED',
      });
      await h.accounts.changePassword(auth, { currentPassword: PW, newPassword: 'new password 1' }, IP);
      expect((await h.accounts.authenticate(here.token)).user.email).toBe('a@example.com');
      expect(await codeOf(h.accounts.authenticate(there.token))).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(h.revoked.at(-1)?.reason).toBe('password changed');
      expect(await codeOf(h.accounts.signIn({ email: 'a@example.com', password: PW }, IP))).toMatchObject({ code: 'UNAUTHORIZED' });
      await h.accounts.signIn({ email: 'a@example.com', password: 'new password 1' }, IP);
    });

    it("the operator's reset ends every session", async () => {
      h = await accountsHarness('closed');
      await h.accounts.createUser({ email: 'a@example.com', password: PW });
      const s = await h.accounts.signIn({ email: 'a@example.com', password: PW }, IP);
      await h.accounts.resetPassword({ email: 'a@example.com', password: 'reset password 1' });
      expect(await codeOf(h.accounts.authenticate(s.token))).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(await codeOf(h.accounts.resetPassword({ email: 'nobody@example.com', password: 'reset password 1' }))).toMatchObject({ code: 'NOT_FOUND' });
      await h.accounts.signIn({ email: 'a@example.com', password: 'reset password 1' }, IP);
      expect((await h.audit.list()).map((e) => [e.actor, e.action])).toContainEqual(['operator', 'auth.resetPassword']);
      expect(await h.auditOk()).toBe(true);
    });
  });

  describe('sign-in throttling (issue 8, item 3): slows whoever fails, never locks the owner out', () => {
    const B = 'b@example.com';
    /** Wrong passwords from `remote` until `n` were refused as wrong (waiting out each delay, as a patient attacker does); the waits seen. */
    async function fail(email: string, remote: string, n: number): Promise<number[]> {
      const waits: number[] = [];
      for (let wrong = 0; wrong < n; ) {
        const r = await codeOf(h.accounts.signIn({ email, password: 'not the password' }, remote));
        if (r.code === 'RATE_LIMITED') {
          const wait = r.details?.['retryAfterMs'] as number;
          waits.push(wait);
          h.clock.now += wait;
        } else {
          expect(r.code).toBe('UNAUTHORIZED');
          wrong += 1;
        }
      }
      return waits;
    }

    it('five wrong passwords: the owner still signs in at once from elsewhere, and from the same address after a short, growing delay', async () => {
      h = await accountsHarness('closed');
      await h.accounts.createUser({ email: 'a@example.com', password: PW });
      const waits = await fail('a@example.com', '10.6.6.6', 5);
      // Three free failures, then 1 s, 2 s: each failure doubles the wait (instead of a 15-minute lock for everyone).
      expect(waits).toEqual([1_000, 2_000]);
      // The owner elsewhere is not affected at all.
      expect((await h.accounts.signIn({ email: 'a@example.com', password: PW }, '10.0.0.1')).user.email).toBe('a@example.com');
      // From the attacker's own address even the right password waits — 4 s now, not 15 minutes…
      const limited = await codeOf(h.accounts.signIn({ email: 'a@example.com', password: PW }, '10.6.6.6'));
      expect(limited).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/for this account from this address; try again in 4 s/), details: { retryAfterMs: 4_000 } });
      // …and then it works, and the count starts over.
      h.clock.now += 4_000;
      await h.accounts.signIn({ email: 'a@example.com', password: PW }, '10.6.6.6');
      expect((await codeOf(h.accounts.signIn({ email: 'a@example.com', password: 'not the password' }, '10.6.6.6'))).code).toBe('UNAUTHORIZED');
      // Unknown emails are slowed the same way (no hint that they do not exist).
      expect(await fail('nobody@example.com', '10.6.6.7', 4)).toEqual([1_000]);
    });

    it('the per-address limit slows that address only, never other accounts\' owners elsewhere', async () => {
      // (The default is 20 failures per address; 6 keeps the test short.)
      h = await accountsHarness('closed', { limits: { freeFailuresPerAddress: 6 } });
      await h.accounts.createUser({ email: 'a@example.com', password: PW });
      await h.accounts.createUser({ email: B, password: PW });
      for (let i = 0; i < 6; i++) expect((await codeOf(h.accounts.signIn({ email: `guess${i}@example.com`, password: 'x' }, '10.0.0.9'))).code).toBe('UNAUTHORIZED');
      expect(await codeOf(h.accounts.signIn({ email: 'a@example.com', password: PW }, '10.0.0.9'))).toMatchObject({
        code: 'RATE_LIMITED',
        message: expect.stringMatching(/from this address/),
        details: { retryAfterMs: 1_000 },
      });
      // Owners elsewhere: untouched.
      await h.accounts.signIn({ email: 'a@example.com', password: PW }, '10.0.0.2');
      await h.accounts.signIn({ email: B, password: PW }, '10.0.0.3');
      h.clock.now += 1_000;
      await h.accounts.signIn({ email: 'a@example.com', password: PW }, '10.0.0.9');
    });

    it('a device already paired with the account\'s instance signs in at once; a bad, stale or foreign proof counts as any client', async () => {
      const device = generateDeviceKey();
      const othersDevice = generateDeviceKey();
      const paired = new Set([`a@example.com ${device.publicKey}`, `${B} ${othersDevice.publicKey}`]);
      h = await accountsHarness('closed', { isPairedDevice: async (email, key) => paired.has(`${email} ${key}`), limits: { freeFailuresPerAddress: 6 } });
      await h.accounts.createUser({ email: 'a@example.com', password: PW });
      await h.accounts.createUser({ email: B, password: PW });
      await fail('a@example.com', '10.6.6.6', 5);
      await fail('guess@example.com', '10.6.6.6', 3);
      const proof = (at = h.clock.now, key = device) => ({
        publicKey: key.publicKey,
        timestamp: at,
        signature: signPayload(key.privateKey, authPayload(SIGNIN_PROOF_NONCE, key.deviceId, at)),
      });
      // Behind the same address (a NAT) as the attacker, the owner's paired device is not slowed.
      const res = await h.accounts.signIn({ email: 'a@example.com', password: PW, device: proof() }, '10.6.6.6');
      expect(res.user.email).toBe('a@example.com');
      expect((await h.audit.list({ limit: 500 })).at(-1)).toMatchObject({ action: 'auth.signIn', details: { pairedDevice: device.deviceId } });
      for (const [what, bad] of [
        ['a stale proof', proof(h.clock.now - 10 * 60_000)],
        ['a device paired with another account', proof(h.clock.now, othersDevice)],
        ['a proof by an unpaired key', proof(h.clock.now, generateDeviceKey())],
        ['a forged signature', { ...proof(), signature: 'A'.repeat(86) }],
      ] as const) {
        expect([what, (await codeOf(h.accounts.signIn({ email: 'a@example.com', password: PW, device: bad }, '10.6.6.6'))).code]).toEqual([what, 'RATE_LIMITED']);
      }
      // A paired device's own wrong passwords are counted against its key: a stolen key opens no fast lane.
      for (let i = 0; i < 3; i++) {
        expect((await codeOf(h.accounts.signIn({ email: 'a@example.com', password: 'wrong', device: proof() }, '10.1.1.1'))).code).toBe('UNAUTHORIZED');
      }
      expect(await codeOf(h.accounts.signIn({ email: 'a@example.com', password: PW, device: proof() }, '10.1.1.1'))).toMatchObject({
        code: 'RATE_LIMITED',
        message: expect.stringMatching(/for this device/),
      });
    });

    it('counts live in the database: a second replica on it sees the same failures', async () => {
      h = await accountsHarness('closed');
      await h.accounts.createUser({ email: 'a@example.com', password: PW });
      await fail('a@example.com', '10.6.6.6', 5);
      const replica = await createAccountService({ db: h.db, audit: h.audit, signup: 'closed', now: () => h.clock.now, logger: silentLogger });
      expect(await codeOf(replica.signIn({ email: 'a@example.com', password: PW }, '10.6.6.6'))).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterMs: 4_000 } });
      const row = await h.db.k.selectFrom('signin_failures').select(['key', 'failures']).execute();
      // Neither the address nor the e-mail is stored in the clear.
      expect(JSON.stringify(row)).not.toMatch(/10\.6\.6\.6|example\.com/);
    });
  });
});
