import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authPayload, DEVICE_ID_CHARS } from '@autoclaw/shared';
import { deviceIdFromPublicKey, generateDeviceKey, parsePublicKey, privateKeyFromPem, privateKeyToPem, rawPublicKey, signPayload, verifyPayload } from './device-keys';

describe('device keys', () => {
  it('derives the id from the raw public key as shared/auth.ts specifies', () => {
    const pair = generateDeviceKey();
    const raw = Buffer.from(pair.publicKey, 'base64url');
    expect(raw.length).toBe(32);
    const expected = createHash('sha256').update(raw).digest('base64url').slice(0, DEVICE_ID_CHARS);
    expect(pair.deviceId).toBe(expected);
    expect(deviceIdFromPublicKey(pair.publicKey)).toBe(expected);
  });

  it('round-trips a raw public key and a PEM private key', () => {
    const pair = generateDeviceKey();
    const parsed = parsePublicKey(pair.publicKey);
    expect(parsed).not.toBeNull();
    expect(rawPublicKey(parsed!)).toBe(pair.publicKey);
    const again = privateKeyFromPem(privateKeyToPem(pair.privateKey));
    expect(rawPublicKey(again)).toBe(pair.publicKey);
  });

  it('verifies its own signature and refuses another key, another payload or garbage', () => {
    const a = generateDeviceKey();
    const b = generateDeviceKey();
    const payload = authPayload('nonce', a.deviceId, 1_700_000_000_000);
    const sig = signPayload(a.privateKey, payload);
    expect(verifyPayload(parsePublicKey(a.publicKey)!, payload, sig)).toBe(true);
    expect(verifyPayload(parsePublicKey(b.publicKey)!, payload, sig)).toBe(false);
    expect(verifyPayload(parsePublicKey(a.publicKey)!, `${payload}x`, sig)).toBe(false);
    expect(verifyPayload(parsePublicKey(a.publicKey)!, payload, 'A'.repeat(86))).toBe(false);
    expect(verifyPayload(parsePublicKey(a.publicKey)!, payload, 'short')).toBe(false);
  });

  it('refuses public keys that are not 32 raw Ed25519 bytes', () => {
    expect(parsePublicKey('')).toBeNull();
    expect(parsePublicKey('not base64url!')).toBeNull();
    expect(parsePublicKey(Buffer.alloc(31).toString('base64url'))).toBeNull();
    expect(parsePublicKey(Buffer.alloc(33).toString('base64url'))).toBeNull();
    expect(() => privateKeyFromPem(generateKeyPairSync('x25519').privateKey.export({ format: 'pem', type: 'pkcs8' }))).toThrow();
  });
});
