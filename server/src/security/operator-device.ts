/**
 * The local operator device: the key the CLI uses to talk to the gateway on
 * the same data directory. Made on first use of a data directory, kept in
 * DIR/operator.key (0600), registered in the store with kind `operator`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '@autoclaw/shared';
import type { Store } from '../store';
import { readSecretFile, writeSecretFile } from './key-file';
import { generateDeviceKey, keyPairOf, privateKeyFromPem, privateKeyToPem } from './device-keys';
import type { DeviceKeyPair } from './device-keys';

export const OPERATOR_KEY_FILE = 'operator.key';
export const OPERATOR_DEVICE_NAME = 'operator (local CLI)';

export function operatorKeyPath(dataDir: string): string {
  return join(dataDir, OPERATOR_KEY_FILE);
}

/** Reads the operator key; NOT_CONFIGURED when the data directory has none yet. */
export function loadOperatorKey(dataDir: string): DeviceKeyPair {
  const path = operatorKeyPath(dataDir);
  if (!existsSync(path)) {
    throw new AppError('NOT_CONFIGURED', `no operator key in ${dataDir} (start a gateway on it first)`);
  }
  return keyPairOf(privateKeyFromPem(readSecretFile(path)));
}

/** Loads or makes the operator key and makes sure the store knows the device. */
export function ensureOperatorDevice(store: Store, dataDir: string): DeviceKeyPair {
  const path = operatorKeyPath(dataDir);
  let pair: DeviceKeyPair;
  if (existsSync(path)) {
    pair = keyPairOf(privateKeyFromPem(readSecretFile(path)));
  } else {
    pair = generateDeviceKey();
    writeSecretFile(path, privateKeyToPem(pair.privateKey));
  }
  if (!store.getDevice(pair.deviceId)) {
    store.insertDevice({ id: pair.deviceId, name: OPERATOR_DEVICE_NAME, kind: 'operator', role: 'owner', publicKey: pair.publicKey });
  }
  return pair;
}
