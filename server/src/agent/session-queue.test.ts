import { describe, expect, it } from 'vitest';
import { SessionQueue, type AbortCause } from './session-queue';

function deferred() {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('SessionQueue', () => {
  it('runs one turn at a time per session, in order, and sessions side by side', async () => {
    const log: string[] = [];
    const gates = new Map<string, ReturnType<typeof deferred>>();
    const q = new SessionQueue({
      run: async (session, id) => {
        log.push(`start ${session}/${id}`);
        const gate = deferred();
        gates.set(id, gate);
        await gate.promise;
        log.push(`end ${session}/${id}`);
      },
      onError: () => {},
    });
    expect(q.enqueue('a', '1')).toBe(true);
    expect(q.enqueue('a', '2')).toBe(true);
    expect(q.enqueue('a', '2')).toBe(false);
    expect(q.enqueue('b', '3')).toBe(true);
    expect(log).toEqual([]); // the caller returns before a turn starts
    await Promise.resolve();
    await Promise.resolve();
    expect(log).toEqual(['start a/1', 'start b/3']);
    expect(q.running('a')).toBe('1');
    gates.get('1')!.resolve();
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['start a/1', 'start b/3', 'end a/1', 'start a/2']);
    gates.get('2')!.resolve();
    gates.get('3')!.resolve();
    await q.idle();
    expect(q.size).toBe(0);
    expect(q.isBusy('a')).toBe(false);
  });

  it('cancels only the running turn; waiting ones still run; a thrown turn does not stop the lane', async () => {
    const causes: unknown[] = [];
    const ran: string[] = [];
    const errors: string[] = [];
    const q = new SessionQueue({
      run: async (_s, id, signal) => {
        ran.push(id);
        if (id === 'boom') throw new Error('boom');
        if (id === '1') {
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
          causes.push(signal.reason as AbortCause);
        }
      },
      onError: (err, _s, id) => errors.push(`${id}:${(err as Error).message}`),
    });
    q.enqueue('s', '1');
    q.enqueue('s', 'boom');
    q.enqueue('s', '3');
    q.enqueue('s', '4');
    expect(q.remove('s', '4')).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(q.cancel('s')).toBe(true);
    expect(q.cancel('s')).toBe(false);
    await q.sessionIdle('s');
    expect(causes).toEqual(['cancel']);
    expect(ran).toEqual(['1', 'boom', '3']);
    expect(errors).toEqual(['boom:boom']);
  });

  it('stop() aborts running turns as a shutdown, drops waiting ones and refuses new ones', async () => {
    const causes: unknown[] = [];
    const q = new SessionQueue({
      run: (_s, _id, signal) =>
        new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => {
            causes.push(signal.reason);
            resolve();
          }),
        ),
      onError: () => {},
    });
    q.enqueue('s', '1');
    q.enqueue('s', '2');
    await new Promise((r) => setImmediate(r));
    await q.stop();
    expect(causes).toEqual(['shutdown']);
    expect(q.enqueue('s', '3')).toBe(false);
    expect(q.size).toBe(0);
  });
});
