/** Sign in, or sign up when the manager allows it (open, or with an owner's invite). */
import { useState, type FormEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import type { AuthResult } from '@autoclaw/shared';
import { queryKeys } from '../../hooks/query-keys';
import type { DeviceKeys } from '../../lib/device-keys';
import { authErrorText } from '../../lib/manager-errors';
import { signInProof } from '../../lib/signin-proof';
import { usePublicManager } from '../../state/manager-context';
import { useServices } from '../../state/services';
import { CredentialsFields, credentialsProblem } from './auth-form-fields';

interface AuthPageProps {
  /** Why the user is here (e.g. the session ended), if known. */
  notice: string | null;
  onSignedIn: (result: AuthResult) => void;
  /** This device's keys: a device paired before proves itself at sign-in. */
  loadKeys: () => Promise<DeviceKeys>;
}

export function AuthPage({ notice, onSignedIn, loadKeys }: AuthPageProps) {
  const client = usePublicManager();
  const { now } = useServices();
  const health = useQuery({ queryKey: queryKeys.managerHealth, queryFn: () => client.health.query(), retry: false, staleTime: 60_000 });
  const signup = health.data?.signup ?? 'closed';
  const [mode, setMode] = useState<'sign-in' | 'sign-up'>('sign-in');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [invite, setInvite] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const signingUp = mode === 'sign-up';

  async function submit(event: FormEvent) {
    event.preventDefault();
    const problem = credentialsProblem(email, password, signingUp);
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const result = signingUp
        ? await client.auth.signUp.mutate({ email: email.trim(), password, ...(signup === 'invite' ? { inviteCode: invite.trim() } : {}) })
        : await client.auth.signIn.mutate({ email: email.trim(), password, device: await signInProof(loadKeys, now) });
      onSignedIn(result);
    } catch (err) {
      setError(authErrorText(err, mode));
      setBusy(false);
    }
  }

  const title = signingUp ? 'Create your AutoClaw account' : 'Sign in to AutoClaw';
  return (
    <main className="pairing auth">
      <section className="pairing-card" aria-labelledby="auth-title">
        <h1 id="auth-title">{title}</h1>
        {notice && (
          <p className="notice warning" role="status">
            {notice}
          </p>
        )}
        <form className="auth-form" onSubmit={(e) => void submit(e)} noValidate>
          <CredentialsFields
            idPrefix="auth"
            email={email}
            password={password}
            onEmail={setEmail}
            onPassword={setPassword}
            passwordAutoComplete={signingUp ? 'new-password' : 'current-password'}
            disabled={busy}
            invalid={error !== null}
            describedBy={error ? 'auth-error' : undefined}
          />
          {signingUp && signup === 'invite' && (
            <>
              <label htmlFor="auth-invite">Invite code</label>
              <input id="auth-invite" value={invite} onChange={(e) => setInvite(e.target.value)} disabled={busy} spellCheck={false} required />
            </>
          )}
          <button type="submit" className="primary" disabled={busy}>
            {busy ? (signingUp ? 'Creating account…' : 'Signing in…') : signingUp ? 'Create account' : 'Sign in'}
          </button>
        </form>
        {error && (
          <p id="auth-error" className="notice error" role="alert">
            {error}
          </p>
        )}
        {signup !== 'closed' ? (
          <p className="hint">
            {signingUp ? 'Already have an account? ' : 'New here? '}
            <button
              type="button"
              className="link"
              onClick={() => {
                setMode(signingUp ? 'sign-in' : 'sign-up');
                setError(null);
              }}
            >
              {signingUp ? 'Sign in' : signup === 'invite' ? 'Sign up with an invite' : 'Create an account'}
            </button>
          </p>
        ) : (
          health.isSuccess && <p className="hint">Accounts on this manager are made by its operator.</p>
        )}
      </section>
    </main>
  );
}
