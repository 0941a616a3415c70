/** The budget book's shapes (see budget-book.ts). */
import type { CapsRow, Effective, Periods, Spend } from './budget-spend';
import type { BudgetReservationInput, SoftLine } from './types';

export interface Held {
  micros: number;
  tokens: number;
  calls: number;
}

/** A usage row as usage.ts writes it, with what settles its reservation. */
export interface UsageWrite {
  at: number;
  sessionId: string;
  spend: Spend;
  /** Writes the row and the running totals (inside the flush's transaction). */
  write: (reservationRowId: number | undefined) => void;
}

export interface Hold {
  sessionId: string | null;
  micros: number | null;
  tokens: number;
  bootId: string;
  createdAt: number;
  /** The row in budget_reservations once written. */
  rowId: number | null;
  /** Settled or released before its row was written: the row is never written. */
  ended: boolean;
}

export type Op = { kind: 'hold'; hold: Hold } | { kind: 'usage'; usage: UsageWrite; rowId: number | undefined } | { kind: 'release'; rowId: number };

export interface View {
  version: number;
  user: CapsRow | undefined;
  plan: CapsRow | undefined;
  eff: Effective;
  capped: boolean;
  p: Periods;
  day: Spend;
  month: Spend;
  sessions: Map<string, Spend>;
  /** Spent after the plan's credit cursor (null: no credit cap). */
  credit: { limit: number; spent: Spend } | null;
  held: Held;
  heldBySession: Map<string, Held>;
}

export interface BudgetBook {
  /** Decides and holds in memory; returns the reservation id or throws BUDGET_EXCEEDED (nothing held). Input already checked. `strict`: sure to see every other connection's commit. */
  hold(input: BudgetReservationInput, strict?: boolean): number;
  /** Settles `reservationId` (if it is this book's) by `usage`, queues the write; returns the soft lines now passed. */
  settle(usage: UsageWrite, reservationId: number | undefined): SoftLine[];
  /** Inside a usage insert's transaction: the row id to delete for `reservationId` (undefined: none), ending the hold. */
  settleNow(usage: Omit<UsageWrite, 'write'>, reservationId: number | undefined): number | undefined;
  /** Ends a reservation without usage; false when it was not open. */
  release(id: number): boolean | null;
  /** Writes what is queued, in one transaction (nested in the caller's when there is one). */
  flush(): void;
  pending(): boolean;
  /** Commits what is queued now (everything queued so far, in one transaction); rejects with the store's error. */
  durable(): Promise<void>;
  /** The caps or the rows changed under the book: load again before the next decision. */
  invalidate(): void;
  /** Every reservation row was cleared (recover()): this process holds nothing. */
  reset(): void;
  stop(): void;
}

