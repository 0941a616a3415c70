/**
 * Pairing and devices: the manager signs short-lived, single-use tickets
 * bound to one device key and one instance; listing and revoking devices,
 * draining and reading health go through the gateway's control plane as the
 * manager device.
 */
import { randomBytes } from 'node:crypto';
import { AppError, TICKET_TTL_MS } from '@autoclaw/shared';
import type { Device, DrainResult, GatewayHealth, PairDeviceResult } from '@autoclaw/shared';
import { encodeTicket, parsePublicKey } from '../../security';
import type { Core } from './core';
import type { GatewayClient } from './gateway-link';
import { toInstance } from './repository';

export function createDeviceOps(core: Core) {
  const { repo } = core;

  /** The gateway of a live instance (CONFLICT otherwise: a stopped instance has no one to ask). */
  function target(id: string): { instanceId: string; url: string } {
    const row = repo.mustGet(id);
    if ((row.state !== 'running' && row.state !== 'degraded') || row.url === null) {
      throw new AppError('CONFLICT', `instance ${id} is ${row.state}; start it first`);
    }
    return { instanceId: id, url: row.url };
  }

  const onGateway = <T>(id: string, fn: (client: GatewayClient) => Promise<T>, timeoutMs?: number): Promise<T> =>
    core.link.call(target(id), fn, timeoutMs === undefined ? {} : { timeoutMs });

  return {
    /** A ticket for the device with `devicePublicKey`, to present at the gateway's POST /auth/ticket. */
    issueTicket(id: string, devicePublicKey: string, deviceName: string, actor = 'system'): PairDeviceResult {
      if (!parsePublicKey(devicePublicKey)) throw new AppError('BAD_REQUEST', 'publicKey is not a base64url raw Ed25519 public key');
      if (devicePublicKey === core.keys.publicKey) throw new AppError('BAD_REQUEST', 'that is the manager\'s own key');
      const { url } = target(id);
      const gatewayUrl = core.deviceUrlOf(toInstance(repo.mustGet(id))) ?? url;
      const iat = core.now();
      const exp = iat + TICKET_TTL_MS;
      const jti = randomBytes(16).toString('base64url');
      const ticket = encodeTicket(
        { v: 1, jti, instanceId: id, devicePublicKey, deviceName, kind: 'client', iat, exp },
        core.keys.sign,
      );
      repo.event(id, { kind: 'device', message: `pairing ticket issued for "${deviceName}"` });
      core.audit({ actor, action: 'device.pair', target: id, details: { deviceName, jti } });
      return { instanceId: id, ticket, gatewayUrl, expiresAt: exp };
    },

    listDevices: (id: string): Promise<Device[]> => onGateway(id, (client) => client.devices.list.query()),

    async revokeDevice(id: string, deviceId: string, actor = 'system'): Promise<void> {
      await onGateway(id, (client) => client.devices.revoke.mutate({ deviceId }));
      repo.event(id, { kind: 'device', message: `device ${deviceId} revoked` });
      core.audit({ actor, action: 'device.revoke', target: id, details: { deviceId } });
    },

    drain: (id: string, timeoutMs: number): Promise<DrainResult> =>
      onGateway(id, (client) => client.admin.drain.mutate({ timeoutMs }), timeoutMs + 5_000),

    health: (id: string): Promise<GatewayHealth> => onGateway(id, (client) => client.admin.health.query()),
  };
}

export type DeviceOps = ReturnType<typeof createDeviceOps>;
