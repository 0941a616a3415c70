import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '@autoclaw/shared';
import { openStore } from '../store';
import type { Store } from '../store';
import { ensureOperatorDevice, loadOperatorKey, operatorKeyPath } from './operator-device';

describe('operator device', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-op-'));
    store = openStore({ path: join(dir, 'gateway.db') });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is made once, kept in a 0600 file and registered as kind operator', () => {
    expect(() => loadOperatorKey(dir)).toThrow(AppError);
    const first = ensureOperatorDevice(store, dir);
    expect(statSync(operatorKeyPath(dir)).mode & 0o777).toBe(0o600);
    expect(store.getDevice(first.deviceId)).toMatchObject({ kind: 'operator', publicKey: first.publicKey });
    const again = ensureOperatorDevice(store, dir);
    expect(again.deviceId).toBe(first.deviceId);
    expect(loadOperatorKey(dir).deviceId).toBe(first.deviceId);
    expect(store.listDevices()).toHaveLength(1);
  });
});
