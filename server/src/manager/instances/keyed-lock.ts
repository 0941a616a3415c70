/** One operation at a time per instance (in this process): start, stop, restart and delete never interleave. */
export interface KeyedLock {
  run<T>(key: string, fn: () => Promise<T>): Promise<T>;
  isBusy(key: string): boolean;
}

export function createKeyedLock(): KeyedLock {
  const tails = new Map<string, Promise<unknown>>();
  const depth = new Map<string, number>();
  return {
    run(key, fn) {
      const prev = tails.get(key) ?? Promise.resolve();
      depth.set(key, (depth.get(key) ?? 0) + 1);
      const result = prev.then(fn, fn);
      const tail = result.then(
        () => undefined,
        () => undefined,
      );
      tails.set(key, tail);
      void tail.then(() => {
        const left = (depth.get(key) ?? 1) - 1;
        if (left === 0) {
          depth.delete(key);
          tails.delete(key);
        } else {
          depth.set(key, left);
        }
      });
      return result;
    },
    isBusy(key) {
      return (depth.get(key) ?? 0) > 0;
    },
  };
}
