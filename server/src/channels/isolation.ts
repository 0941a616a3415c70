/**
 * Containment of channel failures. Everything a channel runs (its SDK's
 * loading, connection, handlers, sends) runs inside an AsyncLocalStorage
 * context naming the channel; the context follows timers, sockets and
 * promises the SDK makes. A throw that escapes every promise chain reaches
 * the process's `uncaughtException` / `unhandledRejection` — there the
 * context says which channel it came from, and that channel is restarted
 * instead of the gateway dying. Errors from anywhere else keep Node's
 * default (print, exit 1) unless another listener handles them.
 *
 * Calls from a channel back into the gateway (storing a message, answering
 * an approval) run with the context cleared (`exit`), so a turn that starts
 * there is never taken for the channel's.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from '../agent';

interface Scope {
  channel: string;
}

/** The part of `process` isolation listens on (injected so tests can pass their own emitter). */
export interface ProcessEvents {
  on(event: 'uncaughtException', listener: (err: unknown) => void): unknown;
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  off(event: 'uncaughtException', listener: (err: unknown) => void): unknown;
  off(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  listenerCount(event: 'uncaughtException' | 'unhandledRejection'): number;
  exit(code: number): never;
}

export interface Isolation {
  /** Runs `fn` as channel `channel`: what escapes from it later is that channel's. */
  run<T>(channel: string, fn: () => T): T;
  /** Runs `fn` outside any channel's context. */
  exit<T>(fn: () => T): T;
  /** The channel whose context is current, if any. */
  current(): string | null;
  /** Where a channel's escaped errors go (one handler per channel). */
  onEscape(channel: string, handler: (err: unknown) => void): () => void;
  /** Listens on the process (while at least one channel runs). */
  install(): void;
  uninstall(): void;
}

export function createIsolation(deps: { logger: Logger; proc?: ProcessEvents }): Isolation {
  const proc: ProcessEvents = deps.proc ?? (process as unknown as ProcessEvents);
  const storage = new AsyncLocalStorage<Scope>();
  const handlers = new Map<string, (err: unknown) => void>();
  let installed = false;

  /** True when the error belonged to a channel and was handed to it. */
  const contain = (err: unknown): boolean => {
    const channel = storage.getStore()?.channel;
    const handler = channel === undefined ? undefined : handlers.get(channel);
    if (channel === undefined) return false;
    deps.logger.error({ channel, err: describe(err) }, 'a channel failed outside its handlers; restarting it');
    // A channel that stopped meanwhile has no handler: its error is dropped with it.
    handler?.(err);
    return true;
  };

  const crashLikeNode = (event: 'uncaughtException' | 'unhandledRejection', err: unknown) => {
    // Another listener (a test runner, an embedding app) takes care of what is not ours.
    if (proc.listenerCount(event) > 1) return;
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    proc.exit(1);
  };

  const onException = (err: unknown) => {
    if (!contain(err)) crashLikeNode('uncaughtException', err);
  };
  const onRejection = (reason: unknown) => {
    if (!contain(reason)) crashLikeNode('unhandledRejection', reason);
  };

  return {
    run: (channel, fn) => storage.run({ channel }, fn),
    exit: (fn) => storage.exit(fn),
    current: () => storage.getStore()?.channel ?? null,
    onEscape(channel, handler) {
      handlers.set(channel, handler);
      return () => {
        if (handlers.get(channel) === handler) handlers.delete(channel);
      };
    },
    install() {
      if (installed) return;
      installed = true;
      proc.on('uncaughtException', onException);
      proc.on('unhandledRejection', onRejection);
    },
    uninstall() {
      if (!installed) return;
      installed = false;
      proc.off('uncaughtException', onException);
      proc.off('unhandledRejection', onRejection);
    },
  };
}

export function describe(err: unknown): string {
  // AppErrors carry a message for people; a code prefix helps with other errors (ECONNRESET: …).
  if (err instanceof Error && err.name === 'AppError') return err.message;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
