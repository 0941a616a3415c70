// The bench side of bench/instant-provider.thread.ts: starts the provider
// thread and hears how long each request took on the provider's side.
import { Worker } from 'node:worker_threads';

export interface InstantProvider {
  readonly url: string;
  /** Provider time (ms) of every finished request, in order. */
  readonly times: number[];
  /** Resolves once `count` requests have finished. */
  finished(count: number): Promise<void>;
  close(): Promise<void>;
}

export async function startInstantProvider(apiKey: string): Promise<InstantProvider> {
  // Bundled by bench/run.mjs beside the bench that imports this.
  const worker = new Worker(new URL('./instant-provider.thread.mjs', import.meta.url), { workerData: { apiKey } });
  const times: number[] = [];
  let waiting: { count: number; resolve: () => void } | null = null;
  const url = await new Promise<string>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (message: { url?: string; ms?: number }) => {
      if (message.url !== undefined) resolve(message.url);
      if (message.ms === undefined) return;
      times.push(message.ms);
      if (waiting && times.length >= waiting.count) {
        const { resolve: done } = waiting;
        waiting = null;
        done();
      }
    });
  });
  return {
    url,
    times,
    finished: (count) =>
      times.length >= count ? Promise.resolve() : new Promise<void>((resolve) => (waiting = { count, resolve })),
    close: async () => {
      worker.postMessage({ close: true });
      await new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    },
  };
}
