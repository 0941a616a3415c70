/**
 * What this device remembers about its pairing with the user's instance:
 * which instance, which device key, and the gateway address the manager
 * gave with the ticket (instances.pairDevice). `instanceUrl` is the
 * instance's address as instances.mine reported it then: when it changes
 * (the instance moved), the device asks the manager again.
 */
import { z } from 'zod';
import type { KeyValueStorage } from './outbox';

export const PairingRecordSchema = z.object({
  instanceId: z.string(),
  deviceId: z.string(),
  /** The door to the instance (`<manager origin>/i/<id>`, from the manager's pairDevice answer); never from a link. */
  gatewayUrl: z.string(),
  instanceUrl: z.string().nullable(),
  /** The gateway refused this device (revoked): it stays refused until it pairs with a new key. */
  revoked: z.boolean(),
});
export type PairingRecord = z.infer<typeof PairingRecordSchema>;

export const PAIRING_RECORD_KEY = 'autoclaw.manager.pairing';

export interface PairingRecordStore {
  load(): PairingRecord | null;
  save(record: PairingRecord): void;
  clear(): void;
}

export function createPairingRecordStore(storage: KeyValueStorage & Pick<Storage, 'removeItem'>, key = PAIRING_RECORD_KEY): PairingRecordStore {
  return {
    load() {
      const raw = storage.getItem(key);
      if (raw === null) return null;
      try {
        const parsed = PairingRecordSchema.safeParse(JSON.parse(raw));
        return parsed.success ? parsed.data : null;
      } catch {
        return null;
      }
    },
    save(record) {
      storage.setItem(key, JSON.stringify(record));
    },
    clear() {
      storage.removeItem(key);
    },
  };
}

/**
 * The record still describes this device's pairing with this instance at its
 * current address. With `door` (the manager's door to the instance), the
 * record fits when it was made through that door: the door does not move
 * when the instance does (a wake starts it on a new port).
 */
export function recordFits(record: PairingRecord | null, instance: { id: string; url: string | null }, deviceId: string, door?: string): record is PairingRecord {
  if (!record || record.instanceId !== instance.id || record.deviceId !== deviceId) return false;
  if (door !== undefined) return record.gatewayUrl === door;
  // An instance that is down reports no address; the one it had still is the best guess.
  return instance.url === null || record.instanceUrl === instance.url;
}
