/**
 * Group commit for user messages. Messages that arrive in the same turn of
 * the event loop (e.g. from several sockets read in one poll phase) are
 * written in ONE transaction; each sender's promise resolves only after that
 * commit. A commit costs far more than an insert (every touched page goes
 * to the WAL), so under load this multiplies the acknowledged messages per
 * second while keeping the rule "acknowledged only after commit".
 */
import { AppError } from '@autoclaw/shared';
import { toAppError } from './connection';
import type { InsertUserMessage, InsertUserMessageResult, Store } from './types';

export interface GroupCommit {
  /** Resolves after the commit that holds the message (same result as store.insertUserMessage). */
  insertUserMessage(input: InsertUserMessage): Promise<InsertUserMessageResult>;
  /** Writes what is pending now, synchronously. */
  flush(): void;
  /** Flushes, then refuses new messages. */
  close(): void;
}

interface Pending {
  input: InsertUserMessage;
  resolve: (result: InsertUserMessageResult) => void;
  reject: (err: unknown) => void;
}

export function createGroupCommit(store: Store, opts: { maxBatch?: number } = {}): GroupCommit {
  const maxBatch = opts.maxBatch ?? 512;
  let pending: Pending[] = [];
  let scheduled: NodeJS.Immediate | null = null;
  let closed = false;

  function settleAlone(item: Pending): void {
    try {
      item.resolve(store.insertUserMessage(item.input));
    } catch (err) {
      item.reject(toAppError(err));
    }
  }

  function flush(): void {
    if (scheduled) {
      clearImmediate(scheduled);
      scheduled = null;
    }
    while (pending.length > 0) {
      const batch = pending.slice(0, maxBatch);
      pending = pending.slice(batch.length);
      if (batch.length === 1) {
        settleAlone(batch[0] as Pending);
        continue;
      }
      let outcomes;
      try {
        outcomes = store.insertUserMessages(batch.map((item) => item.input));
      } catch {
        // The batch rolled back (e.g. the database was busy): give every
        // message its own transaction so one failure is only its own.
        for (const item of batch) settleAlone(item);
        continue;
      }
      batch.forEach((item, index) => {
        const outcome = outcomes[index];
        if (outcome?.ok) item.resolve(outcome.result);
        else item.reject(outcome ? outcome.error : new AppError('INTERNAL', 'the store returned no outcome for a message'));
      });
    }
  }

  return {
    insertUserMessage(input) {
      if (closed) return Promise.reject(new AppError('CANCELLED', 'the gateway is shutting down; the message was not stored'));
      return new Promise<InsertUserMessageResult>((resolve, reject) => {
        pending.push({ input, resolve, reject });
        scheduled ??= setImmediate(flush);
      });
    },
    flush,
    close() {
      flush();
      closed = true;
    },
  };
}
