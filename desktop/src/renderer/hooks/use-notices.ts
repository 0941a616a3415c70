import { useEffect, useRef, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Notice } from '@autoclaw/shared';
import { useGateway } from '../state/gateway-context';
import { useServices } from '../state/services';
import { queryKeys } from './query-keys';
import { refreshQueries } from '../lib/refresh-queries';

const RESUBSCRIBE_MS = 2_000;

export function useNoticeList() {
  const client = useGateway();
  return useQuery({ queryKey: queryKeys.notices, queryFn: () => client.notices.list.query({ limit: 50 }) });
}

export function useMarkNoticesRead() {
  const client = useGateway();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: { all: true } | { ids: string[] }) => client.notices.markRead.mutate(input),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.notices }),
  });
}

/**
 * Follows `notices.events` from the newest notice this page saw: each new one
 * refreshes the list, raises a system notification (desktop app or browser)
 * and is returned as the latest, for a toast. tRPC's wsLink resumes after a
 * reconnect from the last delivered id, so nothing is raised twice.
 */
export function useNoticeStream(): Notice | null {
  const client = useGateway();
  const { alerts, noticeCursor } = useServices();
  const queryClient = useQueryClient();
  const [latest, setLatest] = useState<Notice | null>(null);
  const [attempt, setAttempt] = useState(0);
  const cursor = useRef(noticeCursor);

  useEffect(() => {
    let retry: number | undefined;
    const subscription = client.notices.events.subscribe(
      { lastEventId: cursor.current.get() },
      {
        onData: ({ id, data }) => {
          void refreshQueries(queryClient, queryKeys.notices);
          if (data.type !== 'notice') return;
          cursor.current.set(id);
          setLatest(data.notice);
          alerts.show({ title: data.notice.title, body: data.notice.body, level: data.notice.level });
        },
        onError: () => {
          retry = window.setTimeout(() => setAttempt((n) => n + 1), RESUBSCRIBE_MS);
        },
      },
    );
    return () => {
      window.clearTimeout(retry);
      subscription.unsubscribe();
    };
  }, [client, alerts, queryClient, attempt]);

  return latest;
}
