/** The Store on one SQLite file (better-sqlite3, WAL). */
import { auditQueries } from './audit';
import { startCheckpointer, type CheckpointerOptions } from './checkpointer';
import { AUTOCHECKPOINT_FRAMES, guardMethods, openConnection, toAppError } from './connection';
import type { StoreContext } from './context';
import { channelAccessQueries } from './channel-access';
import { channelDeliveryQueries } from './channel-delivery';
import { channelStateQueries } from './channels';
import { deviceQueries } from './devices';
import { dumpDatabase } from './dump';
import { createHydrate } from './hydrate';
import { memoryQueries } from './memories';
import { messageQueries } from './messages';
import { noticeQueries } from './notices';
import { migrate } from './migrations';
import { createIdMaker } from './new-id';
import { recoveryQueries } from './recovery';
import { sessionQueries } from './sessions';
import { skillRecordQueries } from './skill-records';
import { ticketQueries } from './tickets';
import { toolCallQueries } from './tool-calls';
import type { Store } from './types';
import { usageQueries } from './usage';
import { budgetQueries } from './budget';
import { createBudgetBook } from './budget-book';
import { createSpendTracker } from './budget-spend';
import { ledgerQueries } from './ledger';
import { createZoneClocks } from './zone-sql';

/** The main connection's autocheckpoint while a background checkpointer runs (160 MB of WAL). */
const BACKSTOP_CHECKPOINT_FRAMES = 40_000;

/** The budget book's own calls: they queue their writes instead of committing. */
const DEFERRED = new Set<keyof Store>(['holdBudget', 'settleBudget', 'budgetDurable', 'releaseBudget']);

export interface OpenStoreOptions {
  /** The database file (made with its directory on first use). */
  path: string;
  /** Clock for every timestamp the store writes. */
  now?: () => number;
  /** Hears of database files that stay readable by other users (they are tightened when possible). */
  onWarning?: (message: string) => void;
  /** Ledger queries read the quarter-hour rollup when exact (default true; tests compare with false). */
  ledgerRollup?: boolean;
  /**
   * WAL checkpoints on a worker thread instead of inside a commit (the
   * gateway's store: its event loop must not wait for an fsync). SQLite's
   * autocheckpoint stays as the backstop.
   */
  backgroundCheckpoint?: Omit<CheckpointerOptions, 'path'>;
}

/**
 * Opens (and migrates) the store. Several processes may open the same file at
 * once (the CLI writes pairing codes and settings while a gateway runs):
 * every write is one short IMMEDIATE transaction and waits up to 5 s for the
 * lock. Every write method returns only after its commit.
 */
export function openStore(opts: OpenStoreOptions): Store {
  const db = openConnection(opts.path, opts.onWarning);
  try {
    migrate(db, opts.path);
    const now = opts.now ?? Date.now;
    const ctx: StoreContext = { db, now, newId: createIdMaker(now) };
    const hydrate = createHydrate(ctx);
    const audit = auditQueries(ctx);
    const devices = deviceQueries(ctx, audit.appendAudit);
    const clockOf = createZoneClocks();
    const spend = createSpendTracker(ctx, clockOf);
    const book = createBudgetBook(ctx, spend);
    const recovery = recoveryQueries(ctx, hydrate);
    const inTransaction = db.transaction((fn: () => unknown) => fn());
    const background = opts.backgroundCheckpoint;
    // The worker keeps the WAL short; the commit-time checkpoint (an fsync on
    // this thread) is left only as the backstop while the worker serves, and
    // comes back at its usual size after a failure until the next success.
    let backstop = false;
    const useBackstop = (on: boolean) => {
      if (on === backstop || !db.open) return;
      backstop = on;
      db.pragma(`wal_autocheckpoint = ${on ? BACKSTOP_CHECKPOINT_FRAMES : AUTOCHECKPOINT_FRAMES}`);
    };
    const checkpointer =
      background && opts.path !== ':memory:'
        ? startCheckpointer({
            ...background,
            path: opts.path,
            onError: (message) => {
              useBackstop(false);
              background.onError?.(message);
            },
            onCheckpoint: (report) => {
              useBackstop(true);
              background.onCheckpoint?.(report);
            },
          })
        : null;
    if (checkpointer?.active) useBackstop(true);
    const store: Store = {
      ...sessionQueries(ctx),
      ...messageQueries(ctx, hydrate),
      ...toolCallQueries(ctx),
      ...usageQueries(ctx, spend, book),
      ...ledgerQueries(ctx, clockOf, opts.ledgerRollup === undefined ? {} : { rollup: opts.ledgerRollup }),
      ...budgetQueries(ctx, spend, book, audit.appendAudit),
      ...memoryQueries(ctx),
      ...noticeQueries(ctx),
      ...audit,
      ...devices,
      ...ticketQueries(ctx, devices.insertDevice, devices.getDevice),
      recover: () => {
        const report = recovery.recover();
        book.reset();
        return report;
      },
      ...skillRecordQueries(ctx),
      ...channelStateQueries(ctx),
      ...channelDeliveryQueries(ctx, hydrate),
      ...channelAccessQueries(ctx),
      atomically: <T>(fn: () => T): T => inTransaction.immediate(fn) as T,
      dump: () => dumpDatabase(db),
      close: () => {
        if (!db.open) return;
        try {
          checkpointer?.stop();
          book.stop();
        } finally {
          db.close();
        }
      },
    };
    // What the budget book queued is written before any other store call reads or writes.
    for (const key of Object.keys(store) as Array<keyof Store>) {
      if (DEFERRED.has(key) || key === 'close') continue;
      const fn = store[key] as (...args: unknown[]) => unknown;
      (store as unknown as Record<string, unknown>)[key] = (...args: unknown[]) => {
        if (book.pending()) book.flush();
        return fn(...args);
      };
    }
    return guardMethods(store);
  } catch (err) {
    db.close();
    throw toAppError(err);
  }
}
