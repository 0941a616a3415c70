/**
 * The manager UI (served by the manager at its own origin, or loaded by the
 * desktop app): the one-time setup link, sign-in and sign-up, then the
 * signed-in app. The session lives in localStorage; other tabs' changes
 * arrive through `storage` events.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { AuthResult } from '@autoclaw/shared';
import type { AutoClawDesktopApi } from '../../../preload/api';
import type { DeviceKeys } from '../../lib/device-keys';
import { createManagerSessionStore, MANAGER_SESSION_KEY, type ManagerSession } from '../../lib/manager-session';
import type { KeyValueStorage } from '../../lib/outbox';
import { createPairingRecordStore } from '../../lib/pairing-record';
import { ManagerProvider, PublicManagerProvider } from '../../state/manager-context';
import { useServices } from '../../state/services';
import { useThemeAttribute } from '../../hooks/use-theme';
import { AuthPage } from './auth-page';
import { SetupPage } from './setup-page';
import { SignedInApp } from './signed-in-app';

export interface ManagerAppProps {
  managerUrl: string;
  desktop: AutoClawDesktopApi | null;
  loadKeys: () => Promise<DeviceKeys>;
  storage: KeyValueStorage & Pick<Storage, 'removeItem'>;
  /** The page's path and query (the setup link is `/setup?token=…`). */
  location: { pathname: string; search: string };
  /** Replaces the address bar's path (drops the setup token once used). */
  replacePath: (path: string) => void;
  /** Subscribes to other tabs' storage changes; returns unsubscribe. */
  onStorage: (listener: (key: string | null) => void) => () => void;
  fetch: typeof fetch;
  isAway: () => boolean;
}

export function ManagerApp(props: ManagerAppProps) {
  const { managerUrl, desktop, storage, replacePath, onStorage } = props;
  const { now, chats, outbox, ui } = useServices();
  const queryClient = useQueryClient();
  useThemeAttribute();
  const sessions = useMemo(() => createManagerSessionStore(storage), [storage]);
  const records = useMemo(() => createPairingRecordStore(storage), [storage]);
  const [session, setSession] = useState<ManagerSession | null>(() => sessions.load(now()));
  const [notice, setNotice] = useState<string | null>(null);
  const [path, setPath] = useState(props.location.pathname);
  const setupToken = path === '/setup' ? (new URLSearchParams(props.location.search).get('token') ?? '') : null;

  const toSignIn = useCallback(() => {
    replacePath('/');
    setPath('/');
  }, [replacePath]);

  const signedIn = useCallback(
    (result: AuthResult) => {
      sessions.save(result);
      setNotice(null);
      setSession(result);
      if (path !== '/') toSignIn();
    },
    [sessions, path, toSignIn],
  );

  const refreshed = useCallback(
    (result: AuthResult) => {
      sessions.save(result);
      setSession(result);
    },
    [sessions],
  );

  /** Everything of the signed-out user goes: their chats, unsent messages and this device's pairing record. */
  const ended = useCallback(
    (reason: string | null) => {
      sessions.clear();
      records.clear();
      queryClient.clear();
      for (const id of Object.keys(chats.getState().chats)) chats.getState().forget(id);
      for (const item of outbox.items()) outbox.remove(item.clientId);
      ui.getState().selectSession(null);
      void desktop?.setUnreadCount(0).catch(() => undefined);
      setNotice(reason);
      setSession(null);
    },
    [sessions, records, queryClient, chats, outbox, ui, desktop],
  );

  const readStored = useCallback(() => sessions.load(now()), [sessions, now]);

  // Another tab signed in, refreshed or signed out.
  useEffect(
    () =>
      onStorage((key) => {
        if (key !== null && key !== MANAGER_SESSION_KEY) return;
        const stored = sessions.load(now());
        if (stored === null) {
          if (session !== null) ended('You signed out in another window.');
          return;
        }
        if (session === null || session.user.id !== stored.user.id || session.token !== stored.token) setSession(stored);
      }),
    [onStorage, sessions, now, session, ended],
  );

  // A signed-in visit to the setup link: the address bar drops the token.
  useEffect(() => {
    if (session !== null && path !== '/') toSignIn();
  }, [session, path, toSignIn]);

  if (session) {
    return (
      <ManagerProvider key={session.user.id} managerUrl={managerUrl} session={session} readStored={readStored} onRefreshed={refreshed} onEnded={ended} now={now}>
        <SignedInApp desktop={desktop} loadKeys={props.loadKeys} records={records} fetch={props.fetch} isAway={props.isAway} />
      </ManagerProvider>
    );
  }
  return (
    <PublicManagerProvider managerUrl={managerUrl}>
      {setupToken !== null ? <SetupPage token={setupToken} onSignedIn={signedIn} onSignIn={toSignIn} /> : <AuthPage notice={notice} onSignedIn={signedIn} loadKeys={props.loadKeys} />}
    </PublicManagerProvider>
  );
}
