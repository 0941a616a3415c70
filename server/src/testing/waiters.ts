/**
 * Waiting in the wire servers for what a client did: `notify()` after each
 * change, `until(find)` resolves with the first hit (also one there already).
 */
export interface Waiters {
  notify(): void;
  until<T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T>;
}

export function createWaiters(server: string): Waiters {
  const waiters = new Set<() => void>();
  return {
    notify() {
      for (const check of [...waiters]) check();
    },
    until(find, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = find();
          if (hit === undefined) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(hit);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${server}: timed out waiting for ${what}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}
