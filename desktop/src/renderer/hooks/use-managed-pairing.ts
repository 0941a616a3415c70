/**
 * Pairs this device with the user's instance by itself once the instance
 * runs: a ticket from the manager bound to this device's public key, then
 * the gateway's POST /auth/ticket through the manager's one door
 * (`<manager>/i/<id>`, with a door pass). Keeps the result
 * (pairing-record.ts) so a reload reconnects at once — through the door,
 * which wakes a sleeping instance — and stays refused after a revocation
 * until the user pairs with a new key.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { doorPathOf, type Instance } from '@autoclaw/shared';
import type { DeviceIdentity } from '../lib/device-identity';
import type { DeviceKeys } from '../lib/device-keys';
import { PairError } from '../lib/gateway-http';
import { isLive } from '../lib/instance-view';
import type { ManagerClient } from '../lib/manager-connection';
import { managerErrorText } from '../lib/manager-errors';
import { recordFits, type PairingRecord, type PairingRecordStore } from '../lib/pairing-record';
import { doorUrlOf, fetchAt, type DoorPassSource } from '../lib/service-url';
import { redeemTicket } from '../lib/ticket-pairing';

export type PairingPhase =
  /** Nothing to pair with yet (no instance, not running, keys loading). */
  | { kind: 'waiting' }
  | { kind: 'pairing' }
  | { kind: 'paired'; identity: DeviceIdentity; record: PairingRecord }
  /** The gateway refused this device key for good. */
  | { kind: 'revoked' }
  | { kind: 'failed'; message: string };

export interface ManagedPairing {
  phase: PairingPhase;
  /** Try again after a failure (or a pairing link from the desktop app). */
  retry(): void;
  /** The gateway refused this device (its socket closed as unauthorized). */
  refused(): void;
  /** Forget the revoked key and pair with a new one; null when this device cannot make a new key. */
  pairWithNewKey: (() => void) | null;
}

interface Options {
  client: ManagerClient;
  /** The manager's origin: the instance is reached through its door. */
  managerUrl: string;
  /** Door passes for this instance (instances.doorPass). */
  passes: DoorPassSource;
  instance: Instance | null | undefined;
  keys: DeviceKeys | null;
  records: PairingRecordStore;
  fetch: typeof fetch;
  now: () => number;
}

/** Transport failures are retried by themselves this many times. */
const AUTO_RETRIES = 3;
const RETRY_MS = 1_500;

function failureText(error: unknown): string {
  if (error instanceof PairError) return error.message;
  if (error instanceof Error && error.name !== 'TRPCClientError') return error.message;
  return managerErrorText(error);
}

function isTransient(error: unknown): boolean {
  if (error instanceof PairError) return error.failure.kind === 'unreachable';
  return false;
}

export function useManagedPairing({ client, managerUrl, passes, instance, keys, records, fetch, now }: Options): ManagedPairing {
  const [phase, setPhase] = useState<PairingPhase>({ kind: 'waiting' });
  const [attempt, setAttempt] = useState(0);
  const autoRetries = useRef(0);

  const instanceId = instance?.id ?? null;
  const instanceUrl = instance?.url ?? null;
  const live = instance ? isLive(instance.state) : false;
  const asleep = instance?.state === 'sleeping';

  useEffect(() => {
    if (!keys || instanceId === null) {
      setPhase({ kind: 'waiting' });
      return;
    }
    let current = true;
    let retry: number | undefined;
    const here = { id: instanceId, url: instanceUrl };
    const door = doorUrlOf(managerUrl, doorPathOf(instanceId));
    const pair = async (): Promise<void> => {
      const known = await keys.load();
      const record = records.load();
      if (!current) return;
      if (known && record?.revoked && record.instanceId === instanceId && record.deviceId === known.deviceId) {
        setPhase({ kind: 'revoked' });
        return;
      }
      if (known && recordFits(record, here, known.deviceId, door) && !record.revoked) {
        // Same pairing as before: keep the phase object, so the chat's connection is not rebuilt.
        setPhase((previous) =>
          previous.kind === 'paired' && previous.record.gatewayUrl === record.gatewayUrl && previous.identity.deviceId === known.deviceId
            ? previous
            : { kind: 'paired', identity: known, record },
        );
        return;
      }
      // Running and its address known (events announce `running` before instances.mine has the address).
      if (!live || instanceUrl === null) {
        // Asleep and not paired yet: opening the app wakes it to pair (a paired app wakes it through the door).
        if (asleep) client.instances.start.mutate({ instanceId }).catch(() => undefined);
        setPhase({ kind: 'waiting' });
        return;
      }
      setPhase({ kind: 'pairing' });
      const identity = await keys.loadOrCreate();
      const result = await client.instances.pairDevice.mutate({ instanceId, publicKey: identity.publicKey, deviceName: keys.deviceName });
      const gatewayUrl = doorUrlOf(managerUrl, result.doorPath);
      await redeemTicket(fetchAt(fetch, gatewayUrl, passes), identity, result.ticket, now);
      const made: PairingRecord = { instanceId, deviceId: identity.deviceId, gatewayUrl, instanceUrl, revoked: false };
      records.save(made);
      autoRetries.current = 0;
      if (current) setPhase({ kind: 'paired', identity, record: made });
    };
    pair().catch(async (error: unknown) => {
      if (!current) return;
      if (error instanceof PairError && error.failure.kind === 'revoked') {
        const identity = await keys.load();
        if (identity) records.save({ instanceId, deviceId: identity.deviceId, gatewayUrl: '', instanceUrl, revoked: true });
        if (current) setPhase({ kind: 'revoked' });
        return;
      }
      setPhase({ kind: 'failed', message: failureText(error) });
      if (isTransient(error) && autoRetries.current < AUTO_RETRIES) {
        autoRetries.current += 1;
        retry = window.setTimeout(() => setAttempt((n) => n + 1), RETRY_MS);
      }
    });
    return () => {
      current = false;
      window.clearTimeout(retry);
    };
  }, [client, managerUrl, passes, keys, records, fetch, now, instanceId, instanceUrl, live, asleep, attempt]);

  const retry = useCallback(() => {
    autoRetries.current = 0;
    setAttempt((n) => n + 1);
  }, []);

  const refused = useCallback(() => {
    setPhase((previous) => {
      if (previous.kind === 'paired') records.save({ ...previous.record, revoked: true });
      return { kind: 'revoked' };
    });
  }, [records]);

  const reset = keys?.reset ?? null;
  const pairWithNewKey = useCallback(() => {
    if (!reset) return;
    void reset().then(() => {
      records.clear();
      setAttempt((n) => n + 1);
    });
  }, [reset, records]);

  return { phase, retry, refused, pairWithNewKey: reset ? pairWithNewKey : null };
}
