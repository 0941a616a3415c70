import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../store';
import type { Store } from '../store';
import { consumePairingCode, generatePairingCode, hashPairingCode, issuePairingCode, normalizePairingCode, PAIRING_CODE_TTL_MS } from './pairing-code';

describe('pairing codes', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-pair-'));
    store = openStore({ path: join(dir, 'gateway.db') });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('look like ABCD-EFGH from an unambiguous alphabet (40 bits)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const code = generatePairingCode();
      expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
      seen.add(code);
    }
    expect(seen.size).toBe(200);
  });

  it('forgive case, dashes, spaces and look-alike letters', () => {
    expect(normalizePairingCode('abcd-efgh')).toBe('ABCDEFGH');
    expect(normalizePairingCode(' AB CD EF GH ')).toBe('ABCDEFGH');
    expect(normalizePairingCode('OIL0-1234')).toBe('0110' + '1234');
    expect(normalizePairingCode('ABCD-EFG')).toBeNull();
    expect(normalizePairingCode('ABCD-EFGU')).toBeNull();
    expect(normalizePairingCode('x'.repeat(100))).toBeNull();
  });

  it('are single use and stored only as a hash', () => {
    const { code, expiresAt } = issuePairingCode(store, 1_000);
    expect(expiresAt).toBe(1_000 + PAIRING_CODE_TTL_MS);
    const dump = store.dump();
    expect(dump).not.toContain(code.replace('-', ''));
    expect(dump).toContain(hashPairingCode(normalizePairingCode(code)!));
    expect(consumePairingCode(store, 'ZZZZ-ZZZZ', 2_000)).toBeNull();
    expect(consumePairingCode(store, code.toLowerCase(), 2_000)).toEqual({ role: null });
    expect(consumePairingCode(store, code, 2_000)).toBeNull();
    const chat = issuePairingCode(store, 1_000, { role: 'chat' });
    expect(consumePairingCode(store, chat.code, 2_000)).toEqual({ role: 'chat' });
  });

  it('expire', () => {
    const { code, expiresAt } = issuePairingCode(store, 1_000);
    expect(consumePairingCode(store, code, expiresAt + 1)).toBeNull();
  });
});
