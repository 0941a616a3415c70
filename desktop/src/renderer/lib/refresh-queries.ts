/**
 * Asks the server again after a change it told us about (an event, a
 * pairing, a mutation). `invalidateQueries` alone joins a first fetch that
 * is still in flight — one that began before the change — and keeps its
 * answer as fresh: a device list asked for just before this device paired
 * stayed without it. Cancelling what is in flight first makes the refetch
 * start after the change.
 *
 * A page the user asked for ("Show more") is not cancelled: cancelling it
 * dropped the click — the refetch brings back only the pages already loaded.
 * The refresh waits for that page, then refetches every loaded page.
 */
import type { Query, QueryClient, QueryKey } from '@tanstack/react-query';

function fetchingMore(query: Query): boolean {
  return query.state.fetchStatus === 'fetching' && query.state.fetchMeta?.fetchMore !== undefined;
}

function settled(queryClient: QueryClient, query: Query): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      if (query.state.fetchStatus === 'fetching') return;
      unsubscribe();
      resolve();
    };
    const unsubscribe = queryClient.getQueryCache().subscribe((event) => {
      if (event.query === query) done();
    });
    done();
  });
}

export async function refreshQueries(queryClient: QueryClient, queryKey: QueryKey): Promise<void> {
  const asked = queryClient.getQueryCache().findAll({ queryKey }).filter(fetchingMore);
  await Promise.all(asked.map((query) => settled(queryClient, query)));
  await queryClient.cancelQueries({ queryKey });
  await queryClient.invalidateQueries({ queryKey });
}
