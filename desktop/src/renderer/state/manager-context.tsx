/**
 * The signed-in manager connection: one WebSocket sending the session's
 * newest token at every (re)connect, the token refresh before it runs out,
 * and sign-out. The socket keeps its session on the manager, so a refresh
 * needs no reconnect.
 */
import { createContext, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { AuthResult, ManagerUser } from '@autoclaw/shared';
import { describeError } from '../lib/client-error';
import { connectManager, type ManagerClient, type ManagerStatus } from '../lib/manager-connection';
import { msUntilRefresh, shouldRefresh, type ManagerSession } from '../lib/manager-session';

interface ManagerValue {
  client: ManagerClient;
  user: ManagerUser;
  status: ManagerStatus;
  /** The manager's origin (its one door to the instance is under it). */
  managerUrl: string;
  /** Ends the session on the manager (best effort) and here. */
  signOut(): Promise<void>;
}

const ManagerContext = createContext<ManagerValue | null>(null);

interface ManagerProviderProps {
  managerUrl: string;
  session: ManagerSession;
  /** Reads the stored session (another tab may have refreshed it). */
  readStored: () => ManagerSession | null;
  onRefreshed: (session: AuthResult) => void;
  /** The session is over (signed out here or elsewhere, expired, revoked). */
  onEnded: (reason: string | null) => void;
  now: () => number;
  children: ReactNode;
}

const SIGN_OUT_WAIT_MS = 3_000;

export function ManagerProvider({ managerUrl, session, readStored, onRefreshed, onEnded, now, children }: ManagerProviderProps) {
  const tokenRef = useRef(session.token);
  tokenRef.current = session.token;
  const endedRef = useRef(onEnded);
  endedRef.current = onEnded;
  // Our own sign-out also closes the socket as "session ended": that is no news to the user.
  const signingOut = useRef(false);
  const [connection, setConnection] = useState<{ client: ManagerClient; close(): Promise<void> } | null>(null);
  const [status, setStatus] = useState<ManagerStatus>('connecting');

  // One socket per signed-in user; token changes do not reconnect it.
  const userId = session.user.id;
  useEffect(() => {
    let live = true;
    const made = connectManager({
      managerUrl,
      token: () => tokenRef.current,
      onStatus: (next) => {
        if (live) setStatus(next);
      },
      onSessionEnded: (reason) => {
        if (live && !signingOut.current) endedRef.current(reason);
      },
    });
    setConnection(made);
    return () => {
      live = false;
      void made.close();
    };
  }, [managerUrl, userId]);

  // Refresh the token a day before it runs out (re-reading storage first: another tab may have done it).
  const client = connection?.client ?? null;
  useEffect(() => {
    if (!client) return;
    const timer = window.setTimeout(() => {
      const stored = readStored();
      if (stored && stored.token !== session.token && stored.user.id === session.user.id) {
        onRefreshed(stored);
        return;
      }
      if (!shouldRefresh(session, now())) return;
      client.auth.refresh
        .mutate({ token: session.token })
        .then(onRefreshed)
        .catch((error: unknown) => {
          if (describeError(error).code === 'UNAUTHORIZED') endedRef.current('Your session ended. Sign in again.');
        });
    }, msUntilRefresh(session, now()));
    return () => window.clearTimeout(timer);
  }, [client, session, readStored, onRefreshed, now]);

  const user = session.user;
  const value = useMemo((): ManagerValue | null => {
    if (!connection) return null;
    return {
      client: connection.client,
      user,
      status,
      managerUrl,
      async signOut() {
        signingOut.current = true;
        const call = connection.client.auth.signOut.mutate().catch(() => undefined);
        await Promise.race([call, new Promise((resolve) => window.setTimeout(resolve, SIGN_OUT_WAIT_MS))]);
        endedRef.current(null);
      },
    };
  }, [connection, user, status, managerUrl]);

  if (!value) return null;
  return <ManagerContext.Provider value={value}>{children}</ManagerContext.Provider>;
}

export function useManager(): ManagerValue {
  const value = useContext(ManagerContext);
  if (!value) throw new Error('useManager outside ManagerProvider');
  return value;
}

/** A signed-out manager socket for sign-in, sign-up and the setup page. */
const PublicManagerContext = createContext<ManagerClient | null>(null);

export function PublicManagerProvider({ managerUrl, children }: { managerUrl: string; children: ReactNode }) {
  const [client, setClient] = useState<ManagerClient | null>(null);
  useEffect(() => {
    const made = connectManager({ managerUrl });
    // The tRPC client is a callable proxy: passed bare, React would call it as an updater.
    setClient(() => made.client);
    return () => void made.close();
  }, [managerUrl]);
  if (!client) return null;
  return <PublicManagerContext.Provider value={client}>{children}</PublicManagerContext.Provider>;
}

export function usePublicManager(): ManagerClient {
  const client = useContext(PublicManagerContext);
  if (!client) throw new Error('usePublicManager outside PublicManagerProvider');
  return client;
}
