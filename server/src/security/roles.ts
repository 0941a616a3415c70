/**
 * Device roles (shared/schemas.ts): who may change how the assistant works.
 * The local operator device and the manager device are owners by nature;
 * a client device is whatever it was paired (or later set) as.
 */
import type { DeviceRole } from '@autoclaw/shared';
import type { DeviceRecord, Store } from '../store';

export function isOwnerDevice(device: Pick<DeviceRecord, 'kind' | 'role'>): boolean {
  return device.kind === 'operator' || device.kind === 'manager' || device.role === 'owner';
}

/**
 * The role a device paired with a code gets: the code's own, or, for a code
 * issued without one, owner while no active client device is an owner (the
 * user's first device) and chat after that.
 */
export function roleForPairing(store: Store, codeRole: DeviceRole | null): DeviceRole {
  if (codeRole !== null) return codeRole;
  const ownerExists = store.listDevices().some((d) => d.kind === 'client' && d.role === 'owner' && d.revokedAt === null);
  return ownerExists ? 'chat' : 'owner';
}
