import { describe, expect, it } from 'vitest';
import { createManagerSessionStore, msUntilRefresh, shouldRefresh, type ManagerSession } from './manager-session';

const DAY = 24 * 3_600_000;

function memoryStorage() {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k: string) => map.get(k) ?? null,
    setItem: (k: string, v: string) => void map.set(k, v),
    removeItem: (k: string) => void map.delete(k),
  };
}

const session = (expiresAt: number, sessionExpiresAt = expiresAt + 20 * DAY): ManagerSession => ({
  token: 'ses_abcdefghijklmnopqrstuvwxyz',
  expiresAt,
  sessionExpiresAt,
  user: { id: 'u1', email: 'a@b.co', role: 'owner', createdAt: 1 },
});

describe('manager session store', () => {
  it('keeps a session across loads and forgets it on clear', () => {
    const storage = memoryStorage();
    const store = createManagerSessionStore(storage);
    expect(store.load(0)).toBeNull();
    store.save(session(10 * DAY));
    expect(store.load(DAY)?.user.email).toBe('a@b.co');
    store.clear();
    expect(store.load(DAY)).toBeNull();
  });

  it('drops expired and malformed sessions', () => {
    const storage = memoryStorage();
    const store = createManagerSessionStore(storage);
    store.save(session(10 * DAY));
    expect(store.load(10 * DAY)).toBeNull();
    storage.setItem('autoclaw.manager.session', '{not json');
    expect(store.load(0)).toBeNull();
    storage.setItem('autoclaw.manager.session', JSON.stringify({ token: 1 }));
    expect(store.load(0)).toBeNull();
  });

  it('refreshes within a day of the token expiry, not when the session ends then anyway', () => {
    expect(shouldRefresh(session(10 * DAY), 0)).toBe(false);
    expect(shouldRefresh(session(10 * DAY), 9.5 * DAY)).toBe(true);
    expect(shouldRefresh(session(10 * DAY, 10 * DAY), 9.5 * DAY)).toBe(false);
    expect(msUntilRefresh(session(10 * DAY), 8.9 * DAY)).toBeCloseTo(0.1 * DAY);
    expect(msUntilRefresh(session(10 * DAY), 0)).toBe(6 * 3_600_000);
    expect(msUntilRefresh(session(10 * DAY), 9.5 * DAY)).toBe(0);
  });
});
