/**
 * Per-conversation serialization of outbound work: a streaming edit, a
 * final answer and an approval prompt of one conversation never overlap (the
 * final waits for the send that made the message it edits). Different
 * conversations proceed in parallel.
 */
export class Lanes {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `fn` after everything queued on `key`; resolves with it (never rejects for a later task's sake). */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(key) ?? Promise.resolve();
    const result = before.then(fn);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Resolves when every lane ran empty. */
  async idle(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all([...this.#tails.values()]);
  }

  get size(): number {
    return this.#tails.size;
  }
}
