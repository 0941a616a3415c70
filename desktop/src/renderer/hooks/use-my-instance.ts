/**
 * The signed-in user's instance, live: instances.mine, created on first use
 * (instances.create is idempotent), and instances.events followed over the
 * manager's socket — each event updates the state at once and refreshes the
 * instance shortly after. tRPC resumes the subscription after a reconnect
 * from the last event id it delivered.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Instance, InstanceEvent } from '@autoclaw/shared';
import { describeError } from '../lib/client-error';
import { useManager } from '../state/manager-context';
import { queryKeys } from './query-keys';
import { refreshQueries } from '../lib/refresh-queries';

/** How many events the page keeps (newest last). */
const KEEP_EVENTS = 200;
const REFRESH_AFTER_EVENT_MS = 150;
const RESUBSCRIBE_MS = 2_000;

export function useMyInstance() {
  const { client } = useManager();
  const queryClient = useQueryClient();
  const mine = useQuery({
    queryKey: queryKeys.managerInstance,
    queryFn: () => client.instances.mine.query(),
    // The events subscription keeps it fresh; this only catches what a lost socket missed.
    refetchInterval: 15_000,
  });
  // After the user deleted their instance, a new one is made only when they ask.
  const [autoCreate, setAutoCreate] = useState(true);
  const create = useMutation({
    mutationFn: () => client.instances.create.mutate(),
    onSuccess: (instance) => queryClient.setQueryData(queryKeys.managerInstance, instance),
  });
  const createNow = create.mutate;
  const creating = create.isPending;
  const createFailed = create.isError;
  useEffect(() => {
    if (mine.data === null && autoCreate && !creating && !createFailed) createNow();
  }, [mine.data, autoCreate, creating, createFailed, createNow]);

  return {
    instance: mine.data,
    loading: mine.isPending,
    error: mine.error ?? create.error,
    create: () => {
      create.reset();
      createNow();
    },
    creating,
    /** Called once the user deleted the instance: do not make a new one by ourselves. */
    stopAutoCreate: useCallback(() => setAutoCreate(false), []),
  };
}

export function useInstanceEvents(instanceId: string | null): readonly InstanceEvent[] {
  const { client } = useManager();
  const queryClient = useQueryClient();
  const [events, setEvents] = useState<readonly InstanceEvent[]>([]);
  const [attempt, setAttempt] = useState(0);
  const refresh = useRef<number | undefined>(undefined);

  useEffect(() => {
    setEvents([]);
    if (!instanceId) return;
    let retry: number | undefined;
    const subscription = client.instances.events.subscribe(
      { instanceId, lastEventId: null },
      {
        onData: ({ data: event }) => {
          setEvents((previous) => (previous.some((e) => e.id === event.id) ? previous : [...previous, event].slice(-KEEP_EVENTS)));
          // A new transition shows at once; the replayed history (older than the instance's last change) does not.
          const to = event.to;
          if (to !== null) {
            queryClient.setQueryData<Instance | null>(queryKeys.managerInstance, (old) =>
              old && old.id === event.instanceId && event.at >= old.updatedAt ? { ...old, state: to } : old,
            );
          }
          window.clearTimeout(refresh.current);
          refresh.current = window.setTimeout(
            () => void refreshQueries(queryClient, queryKeys.managerInstance),
            REFRESH_AFTER_EVENT_MS,
          );
        },
        onError: (error) => {
          // NOT_FOUND: the instance is gone (deleted); mine will say so.
          void queryClient.invalidateQueries({ queryKey: queryKeys.managerInstance });
          if (describeError(error).code !== 'NOT_FOUND') retry = window.setTimeout(() => setAttempt((n) => n + 1), RESUBSCRIBE_MS);
        },
        onComplete: () => void queryClient.invalidateQueries({ queryKey: queryKeys.managerInstance }),
      },
    );
    return () => {
      window.clearTimeout(retry);
      window.clearTimeout(refresh.current);
      subscription.unsubscribe();
    };
  }, [client, instanceId, queryClient, attempt]);

  return events;
}
