import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError, AUTH_MAX_SKEW_MS, authPayload } from '@autoclaw/shared';
import type { ErrorCode } from '@autoclaw/shared';
import { openStore } from '../store';
import type { Store } from '../store';
import { pairDevice, verifyDeviceAuth } from './device-auth';
import type { DeviceAuthDeps } from './device-auth';
import { generateDeviceKey, signPayload } from './device-keys';
import type { DeviceKeyPair } from './device-keys';
import { createNonceStore } from './nonces';
import { issuePairingCode } from './pairing-code';

function codeOf(fn: () => unknown): ErrorCode | 'none' {
  try {
    fn();
    return 'none';
  } catch (err) {
    if (AppError.is(err)) return err.code;
    throw err;
  }
}

describe('device authentication', () => {
  let dir: string;
  let store: Store;
  let deps: DeviceAuthDeps;
  const now = 1_700_000_000_000;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-auth-'));
    store = openStore({ path: join(dir, 'gateway.db'), now: () => now });
    deps = { store, nonces: createNonceStore({ now: () => now }), now: () => now };
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function pairRequest(key: DeviceKeyPair, code: string, overrides: Record<string, unknown> = {}) {
    const { nonce } = deps.nonces.issue();
    const timestamp = now;
    return {
      pairingCode: code,
      publicKey: key.publicKey,
      deviceName: 'Test browser',
      nonce,
      timestamp,
      signature: signPayload(key.privateKey, authPayload(nonce, key.deviceId, timestamp)),
      ...overrides,
    };
  }

  function authParams(key: DeviceKeyPair, opts: { timestamp?: number; signer?: DeviceKeyPair; deviceId?: string } = {}) {
    const { nonce } = deps.nonces.issue();
    const timestamp = opts.timestamp ?? now;
    const deviceId = opts.deviceId ?? key.deviceId;
    return {
      deviceId,
      nonce,
      timestamp: String(timestamp),
      signature: signPayload((opts.signer ?? key).privateKey, authPayload(nonce, deviceId, timestamp)),
    };
  }

  it('pairs a device with a one-time code, then authenticates it', () => {
    const key = generateDeviceKey();
    const { code } = issuePairingCode(store, now);
    expect(pairDevice(deps, pairRequest(key, code))).toEqual({ deviceId: key.deviceId });
    const device = store.getDevice(key.deviceId);
    expect(device).toMatchObject({ kind: 'client', name: 'Test browser', publicKey: key.publicKey });
    expect(verifyDeviceAuth(deps, authParams(key)).id).toBe(key.deviceId);
    expect(store.getDevice(key.deviceId)?.lastSeenAt).toBe(now);
  });

  it('gives the first client device the owner role and later ones chat, unless the code names a role', () => {
    const first = generateDeviceKey();
    const second = generateDeviceKey();
    const promoted = generateDeviceKey();
    pairDevice(deps, pairRequest(first, issuePairingCode(store, now).code));
    pairDevice(deps, pairRequest(second, issuePairingCode(store, now).code));
    pairDevice(deps, pairRequest(promoted, issuePairingCode(store, now, { role: 'owner' }).code));
    expect(store.getDevice(first.deviceId)?.role).toBe('owner');
    expect(store.getDevice(second.deviceId)?.role).toBe('chat');
    expect(store.getDevice(promoted.deviceId)?.role).toBe('owner');
    // With every owner device revoked, the next default code pairs an owner again.
    store.revokeDevice(first.deviceId);
    store.revokeDevice(promoted.deviceId);
    const next = generateDeviceKey();
    pairDevice(deps, pairRequest(next, issuePairingCode(store, now).code));
    expect(store.getDevice(next.deviceId)?.role).toBe('owner');
    const chat = generateDeviceKey();
    pairDevice(deps, pairRequest(chat, issuePairingCode(store, now, { role: 'chat' }).code));
    expect(store.getDevice(chat.deviceId)?.role).toBe('chat');
  });

  it('refuses a used, wrong or expired pairing code and a bad pairing proof', () => {
    const key = generateDeviceKey();
    const { code } = issuePairingCode(store, now);
    expect(codeOf(() => pairDevice(deps, pairRequest(key, 'ZZZZ-ZZZZ')))).toBe('UNAUTHORIZED');
    expect(codeOf(() => pairDevice(deps, pairRequest(key, code, { signature: signPayload(generateDeviceKey().privateKey, 'x') })))).toBe('UNAUTHORIZED');
    expect(codeOf(() => pairDevice(deps, pairRequest(key, code, { timestamp: now - AUTH_MAX_SKEW_MS - 1 })))).toBe('UNAUTHORIZED');
    expect(codeOf(() => pairDevice(deps, pairRequest(key, code, { nonce: 'unknown-nonce' })))).toBe('UNAUTHORIZED');
    expect(store.getDevice(key.deviceId)).toBeNull();
    // The code survived the failed attempts above (they never got to it) and works once.
    expect(codeOf(() => pairDevice(deps, pairRequest(key, code)))).toBe('none');
    const other = generateDeviceKey();
    expect(codeOf(() => pairDevice(deps, pairRequest(other, code)))).toBe('UNAUTHORIZED');
    const expired = issuePairingCode(store, now - 11 * 60_000).code;
    expect(codeOf(() => pairDevice(deps, pairRequest(other, expired)))).toBe('UNAUTHORIZED');
    expect(store.getDevice(other.deviceId)).toBeNull();
  });

  it('refuses malformed pairing requests as BAD_REQUEST', () => {
    const key = generateDeviceKey();
    const { code } = issuePairingCode(store, now);
    expect(codeOf(() => pairDevice(deps, null))).toBe('BAD_REQUEST');
    expect(codeOf(() => pairDevice(deps, 'text'))).toBe('BAD_REQUEST');
    expect(codeOf(() => pairDevice(deps, pairRequest(key, code, { extra: 1 })))).toBe('BAD_REQUEST');
    expect(codeOf(() => pairDevice(deps, pairRequest(key, code, { publicKey: 'A'.repeat(43) + 'x' })))).toBe('BAD_REQUEST');
    expect(codeOf(() => pairDevice(deps, pairRequest(key, code, { deviceName: '\u0001' })))).toBe('BAD_REQUEST');
    expect(codeOf(() => pairDevice(deps, pairRequest(key, code, { deviceName: 'x'.repeat(81) })))).toBe('BAD_REQUEST');
  });

  it('refuses replayed nonces, stale timestamps, forged signatures, other keys and revoked devices', () => {
    const key = generateDeviceKey();
    const other = generateDeviceKey();
    store.insertDevice({ id: key.deviceId, name: 'a', kind: 'client', role: 'owner', publicKey: key.publicKey });
    store.insertDevice({ id: other.deviceId, name: 'b', kind: 'client', role: 'owner', publicKey: other.publicKey });

    const params = authParams(key);
    expect(codeOf(() => verifyDeviceAuth(deps, params))).toBe('none');
    expect(codeOf(() => verifyDeviceAuth(deps, params))).toBe('UNAUTHORIZED');
    expect(codeOf(() => verifyDeviceAuth(deps, authParams(key, { timestamp: now - AUTH_MAX_SKEW_MS - 1 })))).toBe('UNAUTHORIZED');
    expect(codeOf(() => verifyDeviceAuth(deps, authParams(key, { timestamp: now + AUTH_MAX_SKEW_MS + 1 })))).toBe('UNAUTHORIZED');
    expect(codeOf(() => verifyDeviceAuth(deps, authParams(key, { signer: other })))).toBe('UNAUTHORIZED');
    expect(codeOf(() => verifyDeviceAuth(deps, authParams(other, { deviceId: key.deviceId })))).toBe('UNAUTHORIZED');
    expect(codeOf(() => verifyDeviceAuth(deps, authParams(generateDeviceKey())))).toBe('UNAUTHORIZED');
    expect(codeOf(() => verifyDeviceAuth(deps, { ...authParams(key), signature: 'A'.repeat(86) }))).toBe('UNAUTHORIZED');
    expect(codeOf(() => verifyDeviceAuth(deps, { ...authParams(key), timestamp: '1e12' }))).toBe('UNAUTHORIZED');
    expect(codeOf(() => verifyDeviceAuth(deps, null))).toBe('UNAUTHORIZED');

    store.revokeDevice(key.deviceId);
    expect(codeOf(() => verifyDeviceAuth(deps, authParams(key)))).toBe('UNAUTHORIZED');
    expect(codeOf(() => verifyDeviceAuth(deps, authParams(other)))).toBe('none');
  });
});
