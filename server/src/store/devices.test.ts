import { createHash, generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf, tempStore, type TempStore } from './test-helpers';

let t: TempStore;
beforeEach(() => {
  t = tempStore();
});
afterEach(() => t.cleanup());

function publicKey(): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  // The last 32 bytes of the SPKI DER are the raw key.
  return publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64url');
}
const hash = (code: string) => createHash('sha256').update(code).digest('hex');

describe('devices', () => {
  it('registers, lists, touches and revokes devices', () => {
    const key = publicKey();
    const device = t.store.insertDevice({ id: 'dev_1', name: 'Firefox on Linux', kind: 'client', publicKey: key });
    expect(device).toEqual({
      id: 'dev_1',
      name: 'Firefox on Linux',
      kind: 'client',
      publicKey: key,
      createdAt: t.clock.now(),
      lastSeenAt: null,
      revokedAt: null,
    });
    t.clock.advance(1);
    t.store.insertDevice({ id: 'dev_0', name: 'operator', kind: 'operator', publicKey: publicKey() });
    expect(t.store.listDevices().map((d) => d.id)).toEqual(['dev_1', 'dev_0']);

    t.clock.advance(10);
    t.store.touchDevice('dev_1');
    expect(t.store.getDevice('dev_1')?.lastSeenAt).toBe(t.clock.now());

    const revokedAt = t.clock.now();
    expect(t.store.revokeDevice('dev_1')?.revokedAt).toBe(revokedAt);
    t.clock.advance(10);
    expect(t.store.revokeDevice('dev_1')?.revokedAt).toBe(revokedAt);
    expect(t.store.revokeDevice('nope')).toBeNull();
    expect(t.store.getDevice('nope')).toBeNull();
    expect(codeOf(() => t.store.touchDevice('nope'))).toBe('NOT_FOUND');
  });

  it('refuses duplicate or malformed devices without writing', () => {
    t.store.insertDevice({ id: 'dev_1', name: 'a', kind: 'client', publicKey: publicKey() });
    const before = t.store.dump();
    expect(codeOf(() => t.store.insertDevice({ id: 'dev_1', name: 'b', kind: 'client', publicKey: publicKey() }))).toBe('CONFLICT');
    expect(codeOf(() => t.store.insertDevice({ id: 'dev_2', name: 'b', kind: 'root' as 'client', publicKey: publicKey() }))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.insertDevice({ id: 'dev_2', name: 'b', kind: 'client', publicKey: 'short' }))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.insertDevice({ id: 'dev_2', name: 'b', kind: 'client', publicKey: `${publicKey()}=` }))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.insertDevice({ id: 'bad id', name: 'b', kind: 'client', publicKey: publicKey() }))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.insertDevice({ id: 'dev_2', name: '', kind: 'client', publicKey: publicKey() }))).toBe('BAD_REQUEST');
    expect(t.store.dump()).toBe(before);
  });
});

describe('pairing codes', () => {
  it('are single use', () => {
    const now = t.clock.now();
    t.store.addPairingCode(hash('123-456'), now + 60_000);
    expect(t.store.consumePairingCode(hash('999-999'), now)).toBe(false);
    expect(t.store.consumePairingCode(hash('123-456'), now + 1)).toBe(true);
    expect(t.store.consumePairingCode(hash('123-456'), now + 2)).toBe(false);
    expect(t.store.consumePairingCode('not a hash', now)).toBe(false);
  });

  it('expire', () => {
    const now = t.clock.now();
    t.store.addPairingCode(hash('a'), now + 1000);
    expect(t.store.consumePairingCode(hash('a'), now + 1000)).toBe(false);
    t.store.addPairingCode(hash('b'), now + 1000);
    expect(t.store.consumePairingCode(hash('b'), now + 999)).toBe(true);
  });

  it('are used once even when two connections race', () => {
    const other = t.reopen();
    t.store.addPairingCode(hash('race'), t.clock.now() + 60_000);
    const results = [other.consumePairingCode(hash('race'), t.clock.now()), t.store.consumePairingCode(hash('race'), t.clock.now())];
    expect(results).toEqual([true, false]);
  });

  it('drops expired codes and refuses duplicates', () => {
    t.store.addPairingCode(hash('old'), t.clock.now() + 10);
    t.clock.advance(20);
    t.store.addPairingCode(hash('new'), t.clock.now() + 10);
    expect(t.store.dump()).not.toContain(hash('old'));
    expect(codeOf(() => t.store.addPairingCode(hash('new'), t.clock.now() + 10))).toBe('CONFLICT');
    expect(codeOf(() => t.store.addPairingCode('XYZ', t.clock.now() + 10))).toBe('BAD_REQUEST');
  });
});

describe('settings', () => {
  it('sets, overwrites and clears values', () => {
    expect(t.store.getSetting('model')).toBeNull();
    t.store.setSetting('model', 'anthropic:a');
    t.store.setSetting('model', 'openai:b');
    expect(t.store.getSetting('model')).toBe('openai:b');
    t.store.setSetting('empty', '');
    expect(t.store.getSetting('empty')).toBe('');
    t.store.setSetting('model', null);
    expect(t.store.getSetting('model')).toBeNull();
    expect(codeOf(() => t.store.setSetting('', 'x'))).toBe('BAD_REQUEST');
  });
});
