import { useEffect, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ChannelName } from '@autoclaw/shared';
import { useGateway } from '../state/gateway-context';
import { queryKeys } from './query-keys';
import { refreshQueries } from '../lib/refresh-queries';

const RESUBSCRIBE_MS = 2_000;

export function useChannels() {
  const client = useGateway();
  return useQuery({ queryKey: queryKeys.channels, queryFn: () => client.channels.list.query() });
}

export function useChannel(name: ChannelName) {
  const client = useGateway();
  return useQuery({ queryKey: queryKeys.channel(name), queryFn: () => client.channels.get.query({ name }) });
}

/** A channel mutation that refreshes what the page shows of channels afterwards. */
function useChannelMutation<I>(fn: (input: I) => Promise<unknown>) {
  const queryClient = useQueryClient();
  return useMutation({ mutationFn: fn, onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.channels }) });
}

export function useSetChannelEnabled() {
  const client = useGateway();
  return useChannelMutation((input: { name: ChannelName; enabled: boolean }) => client.channels.setEnabled.mutate(input));
}

export function useApprovePairing() {
  const client = useGateway();
  return useChannelMutation((input: { channel: ChannelName; code: string }) => client.channels.approve.mutate(input));
}

export function useDenyPairing() {
  const client = useGateway();
  return useChannelMutation((input: { channel: ChannelName; code: string }) => client.channels.deny.mutate(input));
}

export function useRevokeSender() {
  const client = useGateway();
  return useChannelMutation((input: { channel: ChannelName; senderId: string }) => client.channels.revoke.mutate(input));
}

/**
 * Follows `channels.events` while the app is paired: every change refreshes
 * the channel queries, and a stored message the sessions list (a chat app
 * may have started a conversation).
 */
export function useChannelEvents(): void {
  const client = useGateway();
  const queryClient = useQueryClient();
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let retry: number | undefined;
    const subscription = client.channels.events.subscribe(undefined, {
      onData: (event) => {
        void refreshQueries(queryClient, queryKeys.channels);
        if (event.type === 'status') void refreshQueries(queryClient, queryKeys.sessions);
      },
      onError: () => {
        retry = window.setTimeout(() => setAttempt((n) => n + 1), RESUBSCRIBE_MS);
      },
    });
    return () => {
      window.clearTimeout(retry);
      subscription.unsubscribe();
    };
  }, [client, queryClient, attempt]);
}
