/** `autoclaw devices list|revoke|role`: through the running gateway (so sockets close) or the store. */
import { AppError, DeviceRole } from '@autoclaw/shared';
import type { Device } from '@autoclaw/shared';
import { parseDataDir, UsageError, findRunningGateway } from '../gateway';
import { deviceView, loadOperatorKey } from '../security';
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
  return withStore(openExistingStore(dataDir), (store) => {
    const operator = store.listDevices().find((d) => d.kind === 'operator');
    return store.listDevices().map((d) => deviceView(d, operator?.id ?? null));
  });
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
    store.revokeDevice(deviceId, { deviceId: null, action: 'devices.revoke', target: deviceId, detail: device.name });
  });
}

async function setRole(dataDir: string, deviceId: string, role: DeviceRole): Promise<void> {
  if (findRunningGateway(dataDir)) {
    await withGateway(dataDir, (conn) => conn.client.devices.setRole.mutate({ deviceId, role }));
    return;
  }
  await withStore(openExistingStore(dataDir), (store) => {
    const device = store.getDevice(deviceId);
    if (!device) throw new AppError('NOT_FOUND', `no device ${deviceId}`);
    if (device.kind !== 'client') throw new AppError('FORBIDDEN', `the ${device.kind} device is always an owner`);
    if (device.revokedAt !== null) throw new AppError('CONFLICT', 'this device was revoked');
    if (device.role === role) return;
    store.setDeviceRole(deviceId, role, { deviceId: null, action: 'devices.role', target: deviceId, oldValue: device.role, newValue: role, detail: device.name });
  });
}

function when(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseFlags(args, { data: { type: 'string' }, json: { type: 'boolean' } }, 3);
  const [action, deviceId, roleArg] = positionals;
  const dataDir = parseDataDir(values.data);
  if (action === 'list') {
    if (deviceId !== undefined) throw new UsageError('devices list takes no DEVICE_ID');
    const devices = await list(dataDir);
    if (values.json) {
      io.stdout.write(`${JSON.stringify(devices, null, 2)}\n`);
      return 0;
    }
    io.stdout.write('ID                      KIND      ROLE   STATUS   LAST SEEN             NAME\n');
    for (const d of devices) {
      const status = d.revokedAt !== null ? 'revoked' : 'active';
      io.stdout.write(`${d.id.padEnd(24)}${d.kind.padEnd(10)}${d.role.padEnd(7)}${status.padEnd(9)}${when(d.lastSeenAt).padEnd(22)}${d.name}\n`);
    }
    return 0;
  }
  if (action === 'role') {
    const role = DeviceRole.safeParse(roleArg);
    if (!deviceId || !role.success) throw new UsageError('devices role needs a DEVICE_ID and owner or chat');
    await setRole(dataDir, deviceId, role.data);
    io.stdout.write(`${deviceId} is now ${role.data === 'owner' ? 'an owner device' : 'a chat-only device'}\n`);
    return 0;
  }
  if (roleArg !== undefined) throw new UsageError(`unexpected argument "${roleArg.slice(0, 40)}"`);
  if (action === 'revoke') {
    if (!deviceId) throw new UsageError('devices revoke needs a DEVICE_ID');
    await revoke(dataDir, deviceId);
    io.stdout.write(`revoked ${deviceId}\n`);
    return 0;
  }
  throw new UsageError(action === undefined ? 'say "list", "revoke" or "role"' : `unknown action "${action.slice(0, 40)}"`);
}
