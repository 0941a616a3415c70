/**
 * One publisher, many live readers: each `subscribe` buffers what is
 * published from that call on and hands it out through `for await`, until
 * the signal aborts, `close()` ends every reader, or the reader stops.
 * Runtime-neutral (no Node or DOM APIs).
 */
/** The part of an AbortSignal this needs (shared/ has neither DOM nor Node types). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface Subscription<T> extends AsyncIterable<T> {
  /** Stops listening (also when the reader was never started). */
  close(): void;
}

export interface Broadcast<T> {
  publish(item: T): void;
  /** Listens from this call on. */
  subscribe(signal: AbortSignalLike): Subscription<T>;
  /** Ends every subscription. */
  close(): void;
}

export function createBroadcast<T>(): Broadcast<T> {
  const readers = new Set<{ push(item: T): void; end(): void }>();
  return {
    publish(item) {
      for (const reader of [...readers]) reader.push(item);
    },
    subscribe(signal) {
      const buffer: T[] = [];
      let wake: (() => void) | null = null;
      let ended = false;
      const reader = {
        push(item: T) {
          buffer.push(item);
          wake?.();
        },
        end() {
          ended = true;
          readers.delete(reader);
          signal.removeEventListener('abort', reader.end);
          wake?.();
        },
      };
      readers.add(reader);
      signal.addEventListener('abort', reader.end, { once: true });
      if (signal.aborted) reader.end();
      async function* read(): AsyncGenerator<T> {
        try {
          for (;;) {
            const item = buffer.shift();
            if (item !== undefined) {
              yield item;
              continue;
            }
            if (ended) return;
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = null;
          }
        } finally {
          reader.end();
        }
      }
      return { [Symbol.asyncIterator]: read, close: reader.end };
    },
    close() {
      for (const reader of [...readers]) reader.end();
    },
  };
}
