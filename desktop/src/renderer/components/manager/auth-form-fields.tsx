import { PASSWORD_MIN_CHARS } from '@autoclaw/shared';

interface CredentialsProps {
  idPrefix: string;
  email: string;
  password: string;
  onEmail: (value: string) => void;
  onPassword: (value: string) => void;
  /** `new-password` for sign-up and setup, `current-password` for sign-in. */
  passwordAutoComplete: 'new-password' | 'current-password';
  disabled: boolean;
  invalid: boolean;
  describedBy: string | undefined;
}

/** Email and password fields shared by sign-in, sign-up and setup. */
export function CredentialsFields(props: CredentialsProps) {
  const { idPrefix, disabled, invalid, describedBy } = props;
  return (
    <>
      <label htmlFor={`${idPrefix}-email`}>Email</label>
      <input
        id={`${idPrefix}-email`}
        type="email"
        autoComplete="email"
        value={props.email}
        onChange={(e) => props.onEmail(e.target.value)}
        disabled={disabled}
        aria-invalid={invalid}
        aria-describedby={describedBy}
        autoFocus
        required
      />
      <label htmlFor={`${idPrefix}-password`}>Password</label>
      <input
        id={`${idPrefix}-password`}
        type="password"
        autoComplete={props.passwordAutoComplete}
        value={props.password}
        onChange={(e) => props.onPassword(e.target.value)}
        disabled={disabled}
        aria-invalid={invalid}
        aria-describedby={describedBy}
        minLength={props.passwordAutoComplete === 'new-password' ? PASSWORD_MIN_CHARS : undefined}
        required
      />
    </>
  );
}

/** Checks a person can fix before asking the manager; null when the input looks right. */
export function credentialsProblem(email: string, password: string, newPassword: boolean): string | null {
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim())) return 'Enter your email address.';
  if (password.length === 0) return 'Enter your password.';
  if (newPassword && password.length < PASSWORD_MIN_CHARS) return `Choose a password of at least ${PASSWORD_MIN_CHARS} characters.`;
  if (newPassword && password.trim().length === 0) return 'A password cannot be only spaces.';
  return null;
}
