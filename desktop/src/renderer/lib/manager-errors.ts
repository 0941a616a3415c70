/**
 * Sentences for what the manager refused, keyed on its error codes (never on
 * message text, except to pass its own explanation on).
 */
import { describeError } from './client-error';

function sentence(text: string): string {
  const trimmed = text.trim().replace(/^invalid input:\s*/i, '');
  if (trimmed.length === 0) return trimmed;
  const first = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

export type AuthAction = 'sign-in' | 'sign-up' | 'setup';

/** What to tell a person whose sign-in, sign-up or setup failed. */
export function authErrorText(error: unknown, action: AuthAction): string {
  const { code, message } = describeError(error);
  switch (code) {
    case null:
      return 'Cannot reach the AutoClaw manager. Check your connection and try again.';
    case 'RATE_LIMITED':
      return sentence(message);
    case 'UNAUTHORIZED':
      return action === 'sign-in' ? 'Wrong email or password.' : sentence(message);
    case 'FORBIDDEN':
      if (action === 'sign-up') return `Sign-up is not open here: ${sentence(message)}`;
      return sentence(message);
    case 'CONFLICT':
      return action === 'sign-up' ? 'An account with this email already exists. Sign in instead.' : sentence(message);
    case 'BAD_REQUEST':
      return sentence(message);
    default:
      return `Something went wrong (${code}). Try again in a moment.`;
  }
}

/** A short sentence for any other failed manager call. */
export function managerErrorText(error: unknown): string {
  const { code, message } = describeError(error);
  if (code === null) return 'The manager did not answer. It will be tried again when the connection is back.';
  if (code === 'INTERNAL') return 'The manager had an internal error. Try again in a moment.';
  return sentence(message);
}
