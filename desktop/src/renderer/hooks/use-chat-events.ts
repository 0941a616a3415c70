import { useEffect, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { ChatEvent, ErrorCode } from '@autoclaw/shared';
import { describeError } from '../lib/client-error';
import { useGateway } from '../state/gateway-context';
import { useServices } from '../state/services';
import { queryKeys } from './query-keys';
import { refreshQueries } from '../lib/refresh-queries';

/** Events that change what the sessions list shows (title, preview, busy, existence). */
function touchesSessionList(event: ChatEvent): boolean {
  if (event.type === 'session' || event.type === 'deleted' || event.type === 'sync') return true;
  return event.type === 'message' && event.message.status !== 'streaming';
}

/** Errors that another subscription attempt will not cure. */
const FINAL: ReadonlySet<ErrorCode | null> = new Set(['NOT_FOUND', 'UNAUTHORIZED', 'FORBIDDEN', 'BAD_REQUEST']);
const RESUBSCRIBE_MS = 2_000;

/**
 * Follows one session's chat.events. tRPC's wsLink re-subscribes after a
 * reconnect with the id of the last event it delivered, so the stream resumes
 * where it stopped; the reducer makes replays harmless.
 */
export function useChatEvents(sessionId: string | null): void {
  const client = useGateway();
  const { chats, outbox } = useServices();
  const queryClient = useQueryClient();
  // Bumped to subscribe again after a server-side error ended the stream.
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (!sessionId) return;
    let retry: number | undefined;
    const subscription = client.chat.events.subscribe(
      { sessionId },
      {
        onStarted: () => chats.getState().setStreamError(sessionId, null),
        onData: ({ data: event }) => {
          chats.getState().apply(sessionId, event);
          // The gateway has stored these: their outbox copies are done.
          if (event.type === 'message' && event.message.clientId) outbox.remove(event.message.clientId);
          if (event.type === 'sync') for (const m of event.messages) if (m.clientId) outbox.remove(m.clientId);
          if (touchesSessionList(event)) void refreshQueries(queryClient, queryKeys.sessions);
        },
        onError: (error) => {
          const info = describeError(error);
          chats.getState().setStreamError(sessionId, info);
          if (!FINAL.has(info.code)) retry = window.setTimeout(() => setAttempt((n) => n + 1), RESUBSCRIBE_MS);
        },
      },
    );
    return () => {
      window.clearTimeout(retry);
      subscription.unsubscribe();
    };
  }, [client, sessionId, chats, outbox, queryClient, attempt]);
}
