import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { SILENT_LOGGER } from '../agent/logger';
import { createIsolation, type ProcessEvents } from './isolation';

/** A process stand-in: tests call its listeners the way Node would. */
function fakeProcess(others = 0) {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  const proc = {
    on: (event: string, fn: (err: unknown) => void) => emitter.on(event, fn),
    off: (event: string, fn: (err: unknown) => void) => emitter.off(event, fn),
    listenerCount: (event: string) => emitter.listenerCount(event) + others,
    exit: (code: number) => {
      exits.push(code);
      return undefined as never;
    },
  } as unknown as ProcessEvents;
  return { proc, emitter, exits };
}

describe('isolation', () => {
  it('hands an escaped error to the channel whose context it came from, later timers included', async () => {
    const { proc, emitter, exits } = fakeProcess();
    const isolation = createIsolation({ logger: SILENT_LOGGER, proc });
    const seen: unknown[] = [];
    isolation.onEscape('telegram', (err) => seen.push(err));
    isolation.install();
    const boom = new Error('inside a handler');
    await new Promise<void>((resolve) =>
      isolation.run('telegram', () =>
        setTimeout(() => {
          // What Node does with a throw here: call the process listeners, in this context.
          emitter.emit('uncaughtException', boom);
          emitter.emit('unhandledRejection', boom);
          resolve();
        }, 1),
      ),
    );
    expect(seen).toEqual([boom, boom]);
    expect(exits).toEqual([]);
    isolation.uninstall();
    expect(emitter.listenerCount('uncaughtException')).toBe(0);
  });

  it('leaves errors from outside any channel to Node: exit 1, unless someone else listens', () => {
    const alone = fakeProcess();
    const isolation = createIsolation({ logger: SILENT_LOGGER, proc: alone.proc });
    isolation.install();
    const write = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      alone.emitter.emit('uncaughtException', new Error('not a channel'));
    } finally {
      process.stderr.write = write;
    }
    expect(alone.exits).toEqual([1]);

    const shared = fakeProcess(1);
    const other = createIsolation({ logger: SILENT_LOGGER, proc: shared.proc });
    other.install();
    shared.emitter.emit('unhandledRejection', new Error('someone else handles it'));
    expect(shared.exits).toEqual([]);
  });

  it('runs calls back into the gateway outside the channel', async () => {
    const { proc } = fakeProcess();
    const isolation = createIsolation({ logger: SILENT_LOGGER, proc });
    const seen = await isolation.run('discord', async () => {
      await Promise.resolve();
      return [isolation.current(), isolation.exit(() => isolation.current())];
    });
    expect(seen).toEqual(['discord', null]);
  });
});
