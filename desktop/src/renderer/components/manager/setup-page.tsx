/**
 * The one-time setup link the manager prints at its first start
 * (`/setup?token=…`): creates the owner account. The token is only a setup
 * credential for this manager; it can never point the page anywhere else.
 */
import { useState, type FormEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { OpaqueTokenSchema, type AuthResult } from '@autoclaw/shared';
import { queryKeys } from '../../hooks/query-keys';
import { authErrorText, managerErrorText } from '../../lib/manager-errors';
import { usePublicManager } from '../../state/manager-context';
import { CredentialsFields, credentialsProblem } from './auth-form-fields';

interface SetupPageProps {
  token: string;
  onSignedIn: (result: AuthResult) => void;
  /** Leave the setup page for sign-in. */
  onSignIn: () => void;
}

export function SetupPage({ token, onSignedIn, onSignIn }: SetupPageProps) {
  const client = usePublicManager();
  const wellFormed = OpaqueTokenSchema.safeParse(token).success;
  const status = useQuery({
    queryKey: queryKeys.managerSetup(token),
    queryFn: () => client.auth.setupStatus.query({ token }),
    enabled: wellFormed,
    retry: false,
    staleTime: Infinity,
  });
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const problem = credentialsProblem(email, password, true);
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await client.auth.completeSetup.mutate({ token, email: email.trim(), password }));
    } catch (err) {
      setError(authErrorText(err, 'setup'));
      setBusy(false);
    }
  }

  let body;
  if (!wellFormed || status.data?.tokenValid === false) {
    body = status.data?.open === false ? <AlreadySetUp onSignIn={onSignIn} /> : (
      <p className="notice error" role="alert">
        This setup link is not valid any more (it works once and expires after an hour). Restart the manager to get a new one.
      </p>
    );
  } else if (status.isPending) {
    body = <p className="muted">Checking the setup link…</p>;
  } else if (status.isError) {
    body = (
      <p className="notice error" role="alert">
        {managerErrorText(status.error)}
      </p>
    );
  } else if (!status.data.open) {
    body = <AlreadySetUp onSignIn={onSignIn} />;
  } else {
    body = (
      <>
        <p>Create the owner account of this AutoClaw manager. Your own assistant is set up right after.</p>
        <form className="auth-form" onSubmit={(e) => void submit(e)} noValidate>
          <CredentialsFields
            idPrefix="setup"
            email={email}
            password={password}
            onEmail={setEmail}
            onPassword={setPassword}
            passwordAutoComplete="new-password"
            disabled={busy}
            invalid={error !== null}
            describedBy={error ? 'setup-error' : undefined}
          />
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Creating account…' : 'Create owner account'}
          </button>
        </form>
        {error && (
          <p id="setup-error" className="notice error" role="alert">
            {error}
          </p>
        )}
      </>
    );
  }

  return (
    <main className="pairing auth">
      <section className="pairing-card" aria-labelledby="setup-title">
        <h1 id="setup-title">Set up AutoClaw</h1>
        {body}
      </section>
    </main>
  );
}

function AlreadySetUp({ onSignIn }: { onSignIn: () => void }) {
  return (
    <div className="notice" role="status">
      <p>This manager is already set up.</p>
      <button type="button" className="primary" onClick={onSignIn}>
        Go to sign-in
      </button>
    </div>
  );
}
