import type { Db } from './connection';

/** What every part of the store is built from. */
export interface StoreContext {
  db: Db;
  now: () => number;
  newId: () => string;
}
