import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Session } from '@autoclaw/shared';
import { useGateway } from '../state/gateway-context';
import { useServices } from '../state/services';
import { queryKeys } from './query-keys';

export function useSessions() {
  const client = useGateway();
  return useQuery({ queryKey: queryKeys.sessions, queryFn: () => client.sessions.list.query() });
}

/** Adds or replaces a session in the cached list so the sidebar shows it at once. */
function remember(list: Session[] | undefined, session: Session): Session[] {
  return [session, ...(list ?? []).filter((s) => s.id !== session.id)];
}

export function useCreateSession() {
  const client = useGateway();
  const queryClient = useQueryClient();
  const { ui } = useServices();
  return useMutation({
    mutationFn: () => client.sessions.create.mutate({}),
    onSuccess: (session) => {
      queryClient.setQueryData<Session[]>(queryKeys.sessions, (list) => remember(list, session));
      ui.getState().selectSession(session.id);
      void queryClient.invalidateQueries({ queryKey: queryKeys.sessions });
    },
  });
}

export function useDeleteSession() {
  const client = useGateway();
  const queryClient = useQueryClient();
  const { ui, chats } = useServices();
  return useMutation({
    mutationFn: (sessionId: string) => client.sessions.delete.mutate({ sessionId }),
    onSuccess: (_result, sessionId) => {
      const remaining = (queryClient.getQueryData<Session[]>(queryKeys.sessions) ?? []).filter((s) => s.id !== sessionId);
      queryClient.setQueryData<Session[]>(queryKeys.sessions, remaining);
      if (ui.getState().activeSessionId === sessionId) ui.getState().selectSession(remaining[0]?.id ?? null);
      chats.getState().forget(sessionId);
      void queryClient.invalidateQueries({ queryKey: queryKeys.sessions });
    },
  });
}
