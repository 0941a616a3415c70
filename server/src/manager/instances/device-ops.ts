/**
 * Pairing and devices: the manager signs short-lived, single-use tickets
 * bound to one device key and one instance (and keeps a row of each, so
 * every replica knows which device keys were let in); listing and revoking
 * devices, draining and reading health go through the gateway's control
 * plane as the manager device.
 */
import { randomBytes } from 'node:crypto';
import { AppError, doorPathOf, TICKET_TTL_MS } from '@autoclaw/shared';
import type { Device, DrainResult, GatewayHealth, PairDeviceResult, PlanCaps, UsagePage } from '@autoclaw/shared';
import { deviceIdFromPublicKey, encodeTicket, parsePublicKey } from '../../security';
import type { ManagerDb } from '../db';
import type { Core } from './core';
import type { GatewayClient } from './gateway-link';
import { toInstance } from './repository';

export function createDeviceOps(core: Core, db: ManagerDb, wake: (id: string) => Promise<unknown>) {
  const { repo } = core;

  /** The gateway of a live instance, woken when asleep (CONFLICT otherwise: a stopped instance has no one to ask). */
  async function target(id: string): Promise<{ instanceId: string; url: string }> {
    if ((await repo.mustGet(id)).state === 'sleeping') await wake(id);
    const row = await repo.mustGet(id);
    if ((row.state !== 'running' && row.state !== 'degraded') || row.url === null) {
      throw new AppError('CONFLICT', `instance ${id} is ${row.state}; start it first`);
    }
    return { instanceId: id, url: row.url };
  }

  const onGateway = async <T>(id: string, fn: (client: GatewayClient) => Promise<T>, timeoutMs?: number): Promise<T> =>
    core.link.call(await target(id), fn, timeoutMs === undefined ? {} : { timeoutMs });

  return {
    /** A ticket for the device with `devicePublicKey`, to present at the gateway's POST /auth/ticket. */
    async issueTicket(id: string, devicePublicKey: string, deviceName: string, actor = 'system'): Promise<PairDeviceResult> {
      if (!parsePublicKey(devicePublicKey)) throw new AppError('BAD_REQUEST', 'publicKey is not a base64url raw Ed25519 public key');
      if (devicePublicKey === core.keys.publicKey) throw new AppError('BAD_REQUEST', "that is the manager's own key");
      const { url } = await target(id);
      const gatewayUrl = core.deviceUrlOf(toInstance(await repo.mustGet(id))) ?? url;
      const iat = core.now();
      const exp = iat + TICKET_TTL_MS;
      const jti = randomBytes(16).toString('base64url');
      const ticket = encodeTicket({ v: 1, jti, instanceId: id, devicePublicKey, deviceName, kind: 'client', iat, exp }, core.keys.sign);
      await db.k
        .insertInto('pairing_tickets')
        .values({ jti, instance_id: id, device_id: deviceIdFromPublicKey(devicePublicKey), device_public_key: devicePublicKey, device_name: deviceName, issued_at: iat, expires_at: exp, revoked_at: null })
        .execute();
      await repo.event(id, { kind: 'device', message: `pairing ticket issued for "${deviceName}"` });
      await core.audit({ actor, action: 'device.pair', target: id, details: { deviceName, jti } });
      return { instanceId: id, ticket, gatewayUrl, doorPath: doorPathOf(id), expiresAt: exp };
    },
    listDevices: (id: string): Promise<Device[]> => onGateway(id, (client) => client.devices.list.query()),
    async revokeDevice(id: string, deviceId: string, actor = 'system'): Promise<void> {
      await onGateway(id, (client) => client.devices.revoke.mutate({ deviceId }));
      await db.k.updateTable('pairing_tickets').set({ revoked_at: core.now() }).where('instance_id', '=', id).where('device_id', '=', deviceId).where('revoked_at', 'is', null).execute();
      await repo.event(id, { kind: 'device', message: `device ${deviceId} revoked` });
      await core.audit({ actor, action: 'device.revoke', target: id, details: { deviceId } });
    },
    /** Whether the device key was paired (a ticket issued, never revoked) with the instance of `owner`. */
    async isPairedDevice(owner: string, devicePublicKey: string): Promise<boolean> {
      const row = await db.k
        .selectFrom('pairing_tickets')
        .innerJoin('instances', 'instances.id', 'pairing_tickets.instance_id')
        .select('pairing_tickets.jti')
        .where('instances.owner', '=', owner.toLowerCase())
        .where('pairing_tickets.device_public_key', '=', devicePublicKey)
        .where('pairing_tickets.revoked_at', 'is', null)
        .executeTakeFirst();
      return row !== undefined;
    },
    drain: (id: string, timeoutMs: number): Promise<DrainResult> => onGateway(id, (client) => client.admin.drain.mutate({ timeoutMs }), timeoutMs + 5_000),
    health: (id: string): Promise<GatewayHealth> => onGateway(id, (client) => client.admin.health.query()),
    /** The instance's usage rows after `after` (billing's pull). */
    usagePage: (id: string, after: number, limit: number): Promise<UsagePage> => onGateway(id, (client) => client.admin.usagePage.query({ after, limit })),
    /** Sets the plan's caps on the instance (the user is told by a notice there). */
    setPlanCaps: (
      id: string,
      caps: { dailyMicros: number | null; monthlyMicros: number | null; reason: string | null; creditMicros?: number | null; creditAfter?: number },
    ): Promise<PlanCaps> =>
      onGateway(id, (client) => client.admin.setPlanCaps.mutate(caps)),
  };
}

export type DeviceOps = ReturnType<typeof createDeviceOps>;
