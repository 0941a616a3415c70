/** `autoclaw devices list|revoke`: through the running gateway (so sockets close) or the store. */
import { AppError } from '@autoclaw/shared';
import type { Device } from '@autoclaw/shared';
import { parseDataDir, UsageError, findRunningGateway } from '../gateway';
import { loadOperatorKey } from '../security';
import { parseFlags } from './args';
import { openExistingStore, withStore } from './data-store';
import type { CliIO } from './io';
import { connectRunning } from './running-gateway';

async function withGateway<T>(dataDir: string, fn: (conn: ReturnType<typeof connectRunning>) => Promise<T>): Promise<T> {
  const conn = connectRunning(dataDir, loadOperatorKey);
  try {
    return await conn.call(fn(conn));
  } finally {
    await conn.close();
  }
}

async function list(dataDir: string): Promise<Device[]> {
  if (findRunningGateway(dataDir)) return withGateway(dataDir, (conn) => conn.client.devices.list.query());
  return withStore(openExistingStore(dataDir), (store) =>
    store.listDevices().map((d) => ({
      id: d.id,
      name: d.name,
      kind: d.kind,
      createdAt: d.createdAt,
      lastSeenAt: d.lastSeenAt,
      revokedAt: d.revokedAt,
      current: d.kind === 'operator',
    })),
  );
}

async function revoke(dataDir: string, deviceId: string): Promise<void> {
  if (findRunningGateway(dataDir)) {
    await withGateway(dataDir, (conn) => conn.client.devices.revoke.mutate({ deviceId }));
    return;
  }
  await withStore(openExistingStore(dataDir), (store) => {
    const device = store.getDevice(deviceId);
    if (!device) throw new AppError('NOT_FOUND', `no device ${deviceId}`);
    if (device.kind === 'operator') throw new AppError('FORBIDDEN', 'the local operator device cannot be revoked');
    store.revokeDevice(deviceId);
  });
}

function when(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseFlags(args, { data: { type: 'string' }, json: { type: 'boolean' } }, 2);
  const [action, deviceId] = positionals;
  const dataDir = parseDataDir(values.data);
  if (action === 'list') {
    if (deviceId !== undefined) throw new UsageError('devices list takes no DEVICE_ID');
    const devices = await list(dataDir);
    if (values.json) {
      io.stdout.write(`${JSON.stringify(devices, null, 2)}\n`);
      return 0;
    }
    io.stdout.write('ID                      KIND      STATUS   LAST SEEN             NAME\n');
    for (const d of devices) {
      const status = d.revokedAt !== null ? 'revoked' : 'active';
      io.stdout.write(`${d.id.padEnd(24)}${d.kind.padEnd(10)}${status.padEnd(9)}${when(d.lastSeenAt).padEnd(22)}${d.name}\n`);
    }
    return 0;
  }
  if (action === 'revoke') {
    if (!deviceId) throw new UsageError('devices revoke needs a DEVICE_ID');
    await revoke(dataDir, deviceId);
    io.stdout.write(`revoked ${deviceId}\n`);
    return 0;
  }
  throw new UsageError(action === undefined ? 'say "list" or "revoke"' : `unknown action "${action.slice(0, 40)}"`);
}
