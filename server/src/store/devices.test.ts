import { createHash, generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
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
    const device = t.store.insertDevice({ id: 'dev_1', name: 'Firefox on Linux', kind: 'client', role: 'owner', publicKey: key });
    expect(device).toEqual({
      id: 'dev_1',
      name: 'Firefox on Linux',
      kind: 'client',
      role: 'owner',
      publicKey: key,
      createdAt: t.clock.now(),
      lastSeenAt: null,
      revokedAt: null,
    });
    t.clock.advance(1);
    t.store.insertDevice({ id: 'dev_0', name: 'operator', kind: 'operator', role: 'owner', publicKey: publicKey() });
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
    t.store.insertDevice({ id: 'dev_1', name: 'a', kind: 'client', role: 'owner', publicKey: publicKey() });
    const before = t.store.dump();
    expect(codeOf(() => t.store.insertDevice({ id: 'dev_1', name: 'b', kind: 'client', role: 'owner', publicKey: publicKey() }))).toBe('CONFLICT');
    expect(codeOf(() => t.store.insertDevice({ id: 'dev_2', name: 'b', kind: 'root' as 'client', role: 'owner', publicKey: publicKey() }))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.insertDevice({ id: 'dev_2', name: 'b', kind: 'client', role: 'admin' as 'owner', publicKey: publicKey() }))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.insertDevice({ id: 'dev_2', name: 'b', kind: 'client', role: 'owner', publicKey: 'short' }))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.insertDevice({ id: 'dev_2', name: 'b', kind: 'client', role: 'owner', publicKey: `${publicKey()}=` }))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.insertDevice({ id: 'bad id', name: 'b', kind: 'client', role: 'owner', publicKey: publicKey() }))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.insertDevice({ id: 'dev_2', name: '', kind: 'client', role: 'owner', publicKey: publicKey() }))).toBe('BAD_REQUEST');
    expect(t.store.dump()).toBe(before);
  });
});

describe('pairing codes', () => {
  it('are single use', () => {
    const now = t.clock.now();
    t.store.addPairingCode(hash('123-456'), now + 60_000);
    t.store.addPairingCode(hash('chat'), now + 60_000, 'chat');
    expect(t.store.consumePairingCode(hash('999-999'), now)).toBeNull();
    expect(t.store.consumePairingCode(hash('123-456'), now + 1)).toEqual({ role: null });
    expect(t.store.consumePairingCode(hash('123-456'), now + 2)).toBeNull();
    expect(t.store.consumePairingCode(hash('chat'), now + 2)).toEqual({ role: 'chat' });
    expect(t.store.consumePairingCode('not a hash', now)).toBeNull();
  });

  it('expire', () => {
    const now = t.clock.now();
    t.store.addPairingCode(hash('a'), now + 1000);
    expect(t.store.consumePairingCode(hash('a'), now + 1000)).toBeNull();
    t.store.addPairingCode(hash('b'), now + 1000);
    expect(t.store.consumePairingCode(hash('b'), now + 999)).not.toBeNull();
  });

  it('are used once even when two connections race', () => {
    const other = t.reopen();
    t.store.addPairingCode(hash('race'), t.clock.now() + 60_000);
    const results = [other.consumePairingCode(hash('race'), t.clock.now()), t.store.consumePairingCode(hash('race'), t.clock.now())];
    expect(results).toEqual([{ role: null }, null]);
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

describe('device roles and the audit log', () => {
  it('changes a role and appends its audit entry in one transaction; the log cannot be edited or deleted', () => {
    t.store.insertDevice({ id: 'dev_r', name: 'phone', kind: 'client', role: 'chat', publicKey: publicKey() });
    const changed = t.store.setDeviceRole('dev_r', 'owner', { deviceId: null, action: 'devices.role', target: 'dev_r', oldValue: 'chat', newValue: 'owner' });
    expect(changed?.role).toBe('owner');
    expect(t.store.setDeviceRole('nope', 'owner', { deviceId: null, action: 'devices.role', target: 'nope' })).toBeNull();
    expect(t.store.listAudit({ limit: 10 })).toEqual([
      { seq: 1, at: t.clock.now(), deviceId: null, action: 'devices.role', target: 'dev_r', oldValue: 'chat', newValue: 'owner', detail: null },
    ]);
    const before = t.store.dump();
    expect(codeOf(() => t.store.setDeviceRole('dev_r', 'admin' as 'owner'))).toBe('BAD_REQUEST');
    expect(codeOf(() => t.store.appendAudit({ deviceId: null, action: 'rm -rf' as 'devices.role', target: 'x' }))).toBe('BAD_REQUEST');
    expect(t.store.dump()).toBe(before);
    const db = new Database(t.path);
    expect(() => db.prepare('UPDATE audit_log SET detail = ?').run('edited')).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    db.close();
    expect(t.store.dump()).toBe(before);
  });

  it('changes several settings with their audit entries atomically', () => {
    t.store.changeSettings(
      [
        { key: 'a', value: '1' },
        { key: 'b', value: '2' },
      ],
      [{ deviceId: 'dev_x', action: 'settings.set', target: 'a' }],
    );
    const before = t.store.dump();
    // A bad audit entry aborts the whole change.
    expect(codeOf(() => t.store.changeSettings([{ key: 'a', value: null }], [{ deviceId: null, action: 'settings.set', target: '' }]))).toBe('BAD_REQUEST');
    expect(t.store.dump()).toBe(before);
    expect(t.store.getSetting('a')).toBe('1');
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
