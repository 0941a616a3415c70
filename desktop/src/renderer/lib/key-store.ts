/**
 * Where the device's Ed25519 key pair lives: one IndexedDB record. The private
 * key is non-extractable, so IndexedDB holds an opaque handle the page can
 * sign with but never read.
 */
export interface KeyStore {
  load(): Promise<CryptoKeyPair | null>;
  save(pair: CryptoKeyPair): Promise<void>;
  clear(): Promise<void>;
}

const DB_NAME = 'autoclaw';
const STORE = 'device';
const RECORD = 'key-pair';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function openDb(factory: IDBFactory): Promise<IDBDatabase> {
  const open = factory.open(DB_NAME, 1);
  open.onupgradeneeded = () => {
    if (!open.result.objectStoreNames.contains(STORE)) open.result.createObjectStore(STORE);
  };
  return request(open);
}

function isKeyPair(value: unknown): value is CryptoKeyPair {
  if (typeof value !== 'object' || value === null) return false;
  const pair = value as Partial<CryptoKeyPair>;
  return pair.privateKey instanceof CryptoKey && pair.publicKey instanceof CryptoKey;
}

export function createIndexedDbKeyStore(factory: IDBFactory): KeyStore {
  async function withStore<T>(mode: IDBTransactionMode, run: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    const db = await openDb(factory);
    try {
      return await request(run(db.transaction(STORE, mode).objectStore(STORE)));
    } finally {
      db.close();
    }
  }
  return {
    async load() {
      const value: unknown = await withStore('readonly', (store) => store.get(RECORD));
      return isKeyPair(value) ? value : null;
    },
    async save(pair) {
      await withStore('readwrite', (store) => store.put(pair, RECORD));
    },
    async clear() {
      await withStore('readwrite', (store) => store.delete(RECORD));
    },
  };
}
