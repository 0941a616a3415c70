/** Finding and connecting to the gateway running on a data directory, as the operator device. */
import { AppError } from '@autoclaw/shared';
import { findRunningGateway } from '../gateway';
import type { DeviceKeyPair } from '../security';
import { connectAsDevice } from './gateway-client';
import type { GatewayConnection } from './gateway-client';

export function noGatewayError(dataDir: string): AppError {
  return new AppError('NOT_FOUND', `no gateway running on ${dataDir} (start one with "autoclaw gateway --data ${dataDir}")`);
}

export function connectRunning(dataDir: string, loadKey: (dataDir: string) => DeviceKeyPair): GatewayConnection {
  const running = findRunningGateway(dataDir);
  if (!running) throw noGatewayError(dataDir);
  return connectAsDevice({ url: running.url, key: loadKey(dataDir) });
}
