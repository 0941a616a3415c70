/** Opening a data directory's store from the CLI (when no gateway runs, or for writes that need none). */
import { existsSync } from 'node:fs';
import { AppError } from '@autoclaw/shared';
import { openStore } from '../store';
import type { Store } from '../store';
import { databasePath } from '../gateway';

/** The store of a data directory that a gateway has used before. */
export function openExistingStore(dataDir: string): Store {
  if (!existsSync(databasePath(dataDir))) throw new AppError('NOT_FOUND', `no AutoClaw data in ${dataDir} (run "autoclaw gateway --data ${dataDir}" first)`);
  return openStore({ path: databasePath(dataDir) });
}

/** The store of a data directory, made on first use. */
export function openOrCreateStore(dataDir: string): Store {
  return openStore({ path: databasePath(dataDir) });
}

export async function withStore<T>(store: Store, fn: (store: Store) => T | Promise<T>): Promise<T> {
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}
