/**
 * Asks the server again after a change it told us about (an event, a
 * pairing, a mutation). `invalidateQueries` alone joins a first fetch that
 * is still in flight — one that began before the change — and keeps its
 * answer as fresh: a device list asked for just before this device paired
 * stayed without it. Cancelling what is in flight first makes the refetch
 * start after the change.
 */
import type { QueryClient, QueryKey } from '@tanstack/react-query';

export async function refreshQueries(queryClient: QueryClient, queryKey: QueryKey): Promise<void> {
  await queryClient.cancelQueries({ queryKey });
  await queryClient.invalidateQueries({ queryKey });
}
