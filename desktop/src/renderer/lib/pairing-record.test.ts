import { describe, expect, it } from 'vitest';
import { createPairingRecordStore, recordFits, type PairingRecord } from './pairing-record';

function memoryStorage() {
  const map = new Map<string, string>();
  return { getItem: (k: string) => map.get(k) ?? null, setItem: (k: string, v: string) => void map.set(k, v), removeItem: (k: string) => void map.delete(k) };
}

const record: PairingRecord = {
  instanceId: 'inst1',
  deviceId: 'dev1',
  gatewayUrl: 'http://127.0.0.1:4100',
  instanceUrl: 'http://127.0.0.1:4100',
  revoked: false,
};

describe('pairing record', () => {
  it('round-trips and ignores malformed values', () => {
    const storage = memoryStorage();
    const store = createPairingRecordStore(storage);
    expect(store.load()).toBeNull();
    store.save(record);
    expect(store.load()).toEqual(record);
    storage.setItem('autoclaw.manager.pairing', '{"instanceId":1}');
    expect(store.load()).toBeNull();
    storage.setItem('autoclaw.manager.pairing', 'nope');
    expect(store.load()).toBeNull();
    store.clear();
    expect(store.load()).toBeNull();
  });

  it('fits only the same instance, device and address', () => {
    expect(recordFits(record, { id: 'inst1', url: 'http://127.0.0.1:4100' }, 'dev1')).toBe(true);
    expect(recordFits(record, { id: 'inst1', url: null }, 'dev1')).toBe(true);
    expect(recordFits(record, { id: 'inst1', url: 'http://127.0.0.1:4200' }, 'dev1')).toBe(false);
    expect(recordFits(record, { id: 'inst2', url: 'http://127.0.0.1:4100' }, 'dev1')).toBe(false);
    expect(recordFits(record, { id: 'inst1', url: 'http://127.0.0.1:4100' }, 'dev2')).toBe(false);
    expect(recordFits(null, { id: 'inst1', url: null }, 'dev1')).toBe(false);
  });

  it('through the door: fits while the door is the same, wherever the instance runs now', () => {
    const door = 'https://manager.example/i/inst1';
    const viaDoor: PairingRecord = { ...record, gatewayUrl: door };
    expect(recordFits(viaDoor, { id: 'inst1', url: 'http://127.0.0.1:4999' }, 'dev1', door)).toBe(true);
    // Paired straight with the gateway before the door: pairs again through the door.
    expect(recordFits(record, { id: 'inst1', url: 'http://127.0.0.1:4100' }, 'dev1', door)).toBe(false);
    expect(recordFits(viaDoor, { id: 'inst1', url: null }, 'dev2', door)).toBe(false);
  });
});
