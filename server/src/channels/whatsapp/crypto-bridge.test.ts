import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as bridge from 'whatsapp-rust-bridge';
import * as ours from './crypto-bridge';

const bytes = (n: number) => new Uint8Array(randomBytes(n));
const plain = (u: Uint8Array) => Buffer.from(u).toString('hex');

describe('crypto-bridge (the bundle gives baileys this in place of whatsapp-rust-bridge)', () => {
  it('md5 matches the bridge', () => {
    for (const n of [0, 1, 55, 64, 1000]) {
      const input = bytes(n);
      expect(plain(ours.md5(input))).toBe(plain(bridge.md5(input)));
    }
  });

  it('hkdf matches the bridge with and without salt, for every length and info baileys uses', () => {
    const infos = [undefined, '', 'WhatsApp Image Keys', 'WhatsApp Media Retry Notification', 'caf\u00e9 \u00ff latin1'];
    for (const info of infos) {
      for (const salt of [undefined, bytes(32)]) {
        for (const len of [32, 64, 112, 160]) {
          const input = bytes(32);
          expect(plain(ours.hkdf(input, len, { salt, info }))).toBe(plain(bridge.hkdf(input, len, { salt, info })));
        }
      }
    }
  });

  it('expandAppStateKeys gives the bridge\'s five keys', () => {
    const key = bytes(32);
    const a = ours.expandAppStateKeys(key);
    const b = bridge.expandAppStateKeys(key);
    for (const name of ['indexKey', 'valueEncryptionKey', 'valueMacKey', 'snapshotMacKey', 'patchMacKey'] as const) {
      expect(plain(a[name])).toBe(plain(b[name]));
    }
  });

  it('the LT hash subtracts then adds like the bridge (wrapping words), and leaves its base alone', () => {
    const lt = new bridge.LTHashAntiTampering();
    for (let round = 0; round < 5; round++) {
      const base = bytes(128);
      const before = plain(base);
      const subtract = Array.from({ length: round }, () => bytes(32));
      const add = Array.from({ length: 3 - (round % 3) }, () => bytes(32));
      expect(plain(new ours.LTHashAntiTampering().subtractThenAdd(base, subtract, add))).toBe(plain(lt.subtractThenAdd(base, subtract, add)));
      expect(plain(base)).toBe(before);
    }
    // Adding then subtracting the same MAC gives the base back.
    const base = bytes(128);
    const mac = bytes(32);
    const ltOurs = new ours.LTHashAntiTampering();
    expect(plain(ltOurs.subtractThenAdd(ltOurs.subtractThenAdd(base, [], [mac]), [mac], []))).toBe(plain(base));
  });
});
