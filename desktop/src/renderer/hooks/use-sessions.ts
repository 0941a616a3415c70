import { useMemo } from 'react';
import { useInfiniteQuery, useMutation, useQueryClient, type InfiniteData } from '@tanstack/react-query';
import type { Session, SessionPage } from '@autoclaw/shared';
import { useGateway } from '../state/gateway-context';
import { useServices } from '../state/services';
import { queryKeys } from './query-keys';
import { refreshQueries } from '../lib/refresh-queries';

/** Sessions per page of the sidebar (the gateway caps a page at 100). */
export const SESSIONS_PAGE = 50;

type Pages = InfiniteData<SessionPage, unknown>;

/** The loaded pages as one list, newest first; a session that moved between pages while they loaded shows once. */
export function flattenSessions(data: Pages | undefined): Session[] {
  const seen = new Set<string>();
  const out: Session[] = [];
  for (const page of data?.pages ?? []) {
    for (const session of page.sessions) {
      if (seen.has(session.id)) continue;
      seen.add(session.id);
      out.push(session);
    }
  }
  return out;
}

/** The sessions list, a page at a time (`query.fetchNextPage()` loads more). */
export function useSessions() {
  const client = useGateway();
  const query = useInfiniteQuery({
    queryKey: queryKeys.sessions,
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => client.sessions.list.query(pageParam === undefined ? { limit: SESSIONS_PAGE } : { limit: SESSIONS_PAGE, cursor: pageParam }),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const sessions = useMemo(() => flattenSessions(query.data), [query.data]);
  return { query, sessions };
}

/** Rewrites every loaded page (the cache keeps its cursors). */
function mapPages(data: Pages | undefined, fn: (sessions: Session[], index: number) => Session[]): Pages | undefined {
  if (!data) return data;
  return { ...data, pages: data.pages.map((page, i) => ({ ...page, sessions: fn(page.sessions, i) })) };
}

export function useCreateSession() {
  const client = useGateway();
  const queryClient = useQueryClient();
  const { ui } = useServices();
  return useMutation({
    mutationFn: () => client.sessions.create.mutate({}),
    onSuccess: (session) => {
      // Shown at the top at once; the refetch below brings the gateway's order.
      queryClient.setQueryData<Pages>(queryKeys.sessions, (data) =>
        mapPages(data, (list, i) => [...(i === 0 ? [session] : []), ...list.filter((s) => s.id !== session.id)]),
      );
      ui.getState().selectSession(session.id);
      void refreshQueries(queryClient, queryKeys.sessions);
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
      const data = mapPages(queryClient.getQueryData<Pages>(queryKeys.sessions), (list) => list.filter((s) => s.id !== sessionId));
      queryClient.setQueryData<Pages>(queryKeys.sessions, data);
      if (ui.getState().activeSessionId === sessionId) ui.getState().selectSession(flattenSessions(data)[0]?.id ?? null);
      chats.getState().forget(sessionId);
      void refreshQueries(queryClient, queryKeys.sessions);
    },
  });
}
