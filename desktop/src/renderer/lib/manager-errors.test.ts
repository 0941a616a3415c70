import { describe, expect, it } from 'vitest';
import { authErrorText, managerErrorText } from './manager-errors';

/** The shape a TRPCClientError carries from the manager's error formatter. */
const refused = (appCode: string, message: string) => Object.assign(new Error(message), { data: { appCode, code: 'X' } });

describe('manager error texts', () => {
  it('explains sign-in refusals', () => {
    expect(authErrorText(refused('UNAUTHORIZED', 'wrong email or password'), 'sign-in')).toBe('Wrong email or password.');
    expect(authErrorText(refused('RATE_LIMITED', 'too many failed sign-ins for this account; try again in 15 min'), 'sign-in')).toBe(
      'Too many failed sign-ins for this account; try again in 15 min.',
    );
    expect(authErrorText(new Error('socket closed'), 'sign-in')).toMatch(/Cannot reach the AutoClaw manager/);
  });

  it('explains closed sign-up, taken emails and bad input', () => {
    expect(authErrorText(refused('FORBIDDEN', 'sign-up is closed on this manager; ask its operator for an account'), 'sign-up')).toBe(
      'Sign-up is not open here: Sign-up is closed on this manager; ask its operator for an account.',
    );
    expect(authErrorText(refused('CONFLICT', 'email taken'), 'sign-up')).toMatch(/already exists/);
    expect(authErrorText(refused('BAD_REQUEST', 'invalid input: password: password needs at least 8 characters'), 'setup')).toBe(
      'Password: password needs at least 8 characters.',
    );
    expect(authErrorText(refused('FORBIDDEN', 'this setup link is no longer valid'), 'setup')).toBe('This setup link is no longer valid.');
  });

  it('never shows internal details', () => {
    expect(managerErrorText(refused('INTERNAL', 'stack trace here'))).not.toMatch(/stack/);
    expect(managerErrorText(refused('CONFLICT', 'instance x is stopped; start it first'))).toBe('Instance x is stopped; start it first.');
  });
});
