import { useState } from 'react';
import { useManager } from '../../state/manager-context';

/** Who is signed in, the manager connection, and sign-out. */
export function AccountMenu() {
  const { user, status, signOut } = useManager();
  const [busy, setBusy] = useState(false);
  return (
    <div className="account-menu">
      {status !== 'online' && (
        <span className="badge warning" role="status" aria-label="Manager connection">
          {status === 'connecting' ? 'Connecting to the manager…' : 'Manager offline — reconnecting…'}
        </span>
      )}
      <span className="account-email" title={user.role === 'owner' ? 'Owner of this manager' : undefined}>
        {user.email}
      </span>
      <button
        type="button"
        title={`Signed in as ${user.email}`}
        disabled={busy}
        onClick={() => {
          setBusy(true);
          void signOut();
        }}
      >
        Sign out
      </button>
    </div>
  );
}
