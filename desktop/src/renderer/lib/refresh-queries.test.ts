import { InfiniteQueryObserver, QueryClient, QueryObserver } from '@tanstack/react-query';
import { afterEach, describe, expect, it } from 'vitest';
import { refreshQueries } from './refresh-queries';

/** A list the server changes while the first fetch of it is on its way. */
function slowList() {
  const server = { items: [] as string[], asked: 0 };
  const queryFn = () => {
    server.asked += 1;
    const answer = [...server.items];
    return new Promise<string[]>((resolve) => setTimeout(() => resolve(answer), 30));
  };
  return { server, queryFn };
}

describe('refreshQueries', () => {
  const clients: QueryClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.clear();
  });

  function observe(queryFn: () => Promise<string[]>) {
    const queryClient = new QueryClient({ defaultOptions: { queries: { staleTime: 5_000, retry: false } } });
    clients.push(queryClient);
    const observer = new QueryObserver(queryClient, { queryKey: ['list'], queryFn });
    const stop = observer.subscribe(() => undefined);
    return { queryClient, observer, stop };
  }

  it('shows a change made while the first fetch was in flight', async () => {
    const { server, queryFn } = slowList();
    const { queryClient, observer, stop } = observe(queryFn);
    await new Promise((r) => setTimeout(r, 5));
    server.items.push('this device');
    await refreshQueries(queryClient, ['list']);
    expect(observer.getCurrentResult().data).toEqual(['this device']);
    expect(server.asked).toBe(2);
    stop();
  });

  it('is needed: invalidating alone keeps the answer from before the change', async () => {
    const { server, queryFn } = slowList();
    const { queryClient, observer, stop } = observe(queryFn);
    await new Promise((r) => setTimeout(r, 5));
    server.items.push('this device');
    await queryClient.invalidateQueries({ queryKey: ['list'] });
    await new Promise((r) => setTimeout(r, 60));
    expect(observer.getCurrentResult().data).toEqual([]);
    stop();
  });

  it('refetches a settled list once', async () => {
    const { server, queryFn } = slowList();
    const { queryClient, observer, stop } = observe(queryFn);
    await new Promise((r) => setTimeout(r, 60));
    server.items.push('another device');
    await refreshQueries(queryClient, ['list']);
    expect(observer.getCurrentResult().data).toEqual(['another device']);
    expect(server.asked).toBe(2);
    stop();
  });

  it('lets a page the user asked for arrive, then refetches every loaded page', async () => {
    // Three pages of a list; the next page takes a while, as on a busy gateway.
    const server = { pages: [['a', 'b'], ['c', 'd'], ['e']], asked: [] as number[] };
    const queryClient = new QueryClient({ defaultOptions: { queries: { staleTime: 5_000, retry: false } } });
    clients.push(queryClient);
    const observer = new InfiniteQueryObserver(queryClient, {
      queryKey: ['pages'],
      initialPageParam: 0,
      queryFn: ({ pageParam }: { pageParam: number }) => {
        server.asked.push(pageParam);
        const answer = server.pages[pageParam] ?? [];
        return new Promise<string[]>((resolve) => setTimeout(() => resolve([...answer]), pageParam === 0 ? 1 : 40));
      },
      getNextPageParam: (_last: string[], all: string[][]) => (all.length < server.pages.length ? all.length : undefined),
    });
    const stop = observer.subscribe(() => undefined);
    await new Promise((r) => setTimeout(r, 20));
    expect(observer.getCurrentResult().data?.pages).toEqual([['a', 'b']]);

    // "Show more", and a change the server tells about while that page is on its way.
    const more = observer.fetchNextPage();
    await new Promise((r) => setTimeout(r, 5));
    server.pages[0] = ['a2', 'b'];
    await refreshQueries(queryClient, ['pages']);
    await more;
    expect(observer.getCurrentResult().data?.pages).toEqual([['a2', 'b'], ['c', 'd']]);
    stop();
  });
});
