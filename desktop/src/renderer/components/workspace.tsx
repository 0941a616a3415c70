import { lazy, Suspense, useCallback, useEffect, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { Session } from '@autoclaw/shared';
import { queryKeys } from '../hooks/query-keys';
import { useChannelEvents } from '../hooks/use-channels';
import { useOutboxSender } from '../hooks/use-outbox';
import { useCreateSession, useSessions } from '../hooks/use-sessions';
import { useServices, useUi } from '../state/services';
import { refreshQueries } from '../lib/refresh-queries';
import { AppHeader, WEBCHAT_VIEWS, type NavItem } from './app-header';
import { ConnectionBanner } from './connection-banner';
import { NoticesButton } from './notices-button';
import { ChannelsPage } from './channels-page';
import { ChatView } from './chat-view';
import { SessionsSidebar } from './sessions-sidebar';
import { SettingsPage } from './settings-page';
import { SkillsPage } from './skills-page';

interface WorkspaceProps {
  /** The manager UI's instance page, shown as a third view. */
  instancePage?: ReactNode;
  /** The manager UI's billing page. */
  billingPage?: ReactNode;
  /** Right-hand side of the header (the manager UI's account menu). */
  headerEnd?: ReactNode;
}

// The Costs page (and its chart library) loads when first opened: the chat's bundle does not carry it.
const CostsPage = lazy(() => import('./costs-page'));

const MANAGED_VIEWS: readonly NavItem[] = [...WEBCHAT_VIEWS, { view: 'instance', label: 'Instance' }, { view: 'billing', label: 'Billing' }];

/** The paired app: header, conversations, and the chat, settings (or, managed, the instance page). */
export function Workspace({ instancePage, billingPage, headerEnd }: WorkspaceProps = {}) {
  const { ui } = useServices();
  const view = useUi((s) => s.view);
  const activeSessionId = useUi((s) => s.activeSessionId);
  const sessions = useSessions();
  const create = useCreateSession();
  const queryClient = useQueryClient();

  const onDefaultSession = useCallback(
    (sessionId: string) => {
      if (ui.getState().activeSessionId === null) ui.getState().selectSession(sessionId);
      void refreshQueries(queryClient, queryKeys.sessions);
    },
    [ui, queryClient],
  );
  useOutboxSender(onDefaultSession);
  useChannelEvents();

  // Open the newest conversation when none is open (in the chat: a chat app's new conversation must not pull the user off another page).
  const first: Session | undefined = sessions.sessions[0];
  useEffect(() => {
    if (activeSessionId === null && first && view === 'chat') ui.getState().selectSession(first.id);
  }, [activeSessionId, first, ui, view]);

  // Alt+N starts a new chat.
  const createChat = create.mutate;
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.altKey && !event.ctrlKey && !event.metaKey && event.code === 'KeyN') {
        event.preventDefault();
        createChat();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [createChat]);

  return (
    <div className="app">
      <AppHeader
        views={instancePage ? MANAGED_VIEWS : WEBCHAT_VIEWS}
        status={<ConnectionBanner />}
        end={
          <>
            <NoticesButton />
            {headerEnd}
          </>
        }
      />
      <div className={`app-body view-${view}`}>
        <SessionsSidebar />
        <main className="content">
          {view === 'instance' && instancePage ? (
            instancePage
          ) : view === 'billing' && billingPage ? (
            billingPage
          ) : view === 'settings' ? (
            <SettingsPage />
          ) : view === 'skills' ? (
            <SkillsPage />
          ) : view === 'costs' ? (
            <Suspense fallback={<p className="muted centered-text">Loading costs…</p>}>
              <CostsPage onTopUp={billingPage ? () => ui.getState().setView('billing') : undefined} />
            </Suspense>
          ) : view === 'channels' ? (
            <ChannelsPage />
          ) : (
            <ChatView />
          )}
        </main>
      </div>
    </div>
  );
}
