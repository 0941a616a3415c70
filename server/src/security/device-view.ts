/** A stored device as clients see it (no public key; `current` marks the asking device). */
import type { Device } from '@autoclaw/shared';
import type { DeviceRecord } from '../store';

export function deviceView(d: DeviceRecord, currentId: string | null): Device {
  return {
    id: d.id,
    name: d.name,
    kind: d.kind,
    role: d.role,
    createdAt: d.createdAt,
    lastSeenAt: d.lastSeenAt,
    revokedAt: d.revokedAt,
    current: d.id === currentId,
  };
}
