/**
 * The local driver on a tailnet: every instance the driver starts is
 * published with Tailscale Serve through this machine's LocalAPI — HTTPS on
 * the node's MagicDNS name, on a tailnet port equal to the gateway's loopback
 * port (so several instances share one node), proxied to the gateway on
 * loopback — and unpublished when the instance is deleted. Devices then reach
 * an instance at `https://<MagicDNS name>:<port>`.
 *
 * A start whose publishing fails fails (the instance would be unreachable
 * from the user's devices); a re-adopted gateway is published again, and a
 * failure there only warns (it keeps serving loopback).
 */
import type { Instance } from '@autoclaw/shared';
import { nodeDnsName, publishInstance, unpublishInstance } from '../../tailscale';
import type { LocalApiClient } from '../../tailscale';
import type { Logger } from '../gateway-parts';
import type { InstanceDriver, InstanceRuntime, InstanceSpec } from './types';

export interface ServePublishingOptions {
  localapi: Pick<LocalApiClient, 'status' | 'getServeConfig' | 'setServeConfig'>;
  logger: Logger;
}

export interface ServePublishing {
  /** Reads this node's MagicDNS name; NOT_CONFIGURED (with what to do) when Tailscale is not up. */
  init(): Promise<string>;
  /** `https://NAME:PORT` of an instance once its node name is known, else null. */
  deviceUrlOf(instance: Instance): string | null;
  /** The driver with publishing around start, provision, adopt and destroy. */
  wrap<D extends InstanceDriver>(driver: D): D;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function createServePublishing(opts: ServePublishingOptions): ServePublishing {
  const { localapi, logger } = opts;
  let dnsName: string | null = null;
  /** The port each instance is published on (to drop a stale entry when a restart picked another port). */
  const published = new Map<string, number>();

  async function publish(id: string, port: number): Promise<void> {
    const previous = published.get(id);
    if (previous !== undefined && previous !== port) await unpublish(id, previous);
    const result = await publishInstance({ localapi, port, httpsPort: port });
    dnsName = result.host;
    published.set(id, port);
    logger.info('instance published on the tailnet', { instanceId: id, url: result.url });
  }

  async function unpublish(id: string, port: number): Promise<void> {
    try {
      await unpublishInstance({ localapi, port, httpsPort: port });
      logger.info('instance unpublished from the tailnet', { instanceId: id, port });
    } catch (err) {
      logger.warn('could not remove the instance from Tailscale Serve', { instanceId: id, port, err: errorText(err) });
    }
    published.delete(id);
  }

  async function started(spec: InstanceSpec, runtime: InstanceRuntime): Promise<InstanceRuntime> {
    if (runtime.port === undefined) {
      logger.warn('instance has no local port; not published on the tailnet', { instanceId: spec.instanceId });
      return runtime;
    }
    await publish(spec.instanceId, runtime.port);
    return runtime;
  }

  return {
    async init() {
      dnsName = await nodeDnsName(localapi);
      return dnsName;
    },

    deviceUrlOf(instance) {
      return dnsName !== null && instance.port !== undefined ? `https://${dnsName}:${instance.port}` : null;
    },

    wrap(driver) {
      return {
        ...driver,
        provision: async (spec: InstanceSpec) => started(spec, await driver.provision(spec)),
        start: async (spec: InstanceSpec) => started(spec, await driver.start(spec)),
        adopt: async (id: string, last: InstanceRuntime | null) => {
          const runtime = await driver.adopt(id, last);
          if (runtime?.port !== undefined) {
            await publish(id, runtime.port).catch((err: unknown) =>
              logger.warn('could not publish a re-adopted instance on the tailnet', { instanceId: id, err: errorText(err) }),
            );
          }
          return runtime;
        },
        destroy: async (id: string) => {
          const port = published.get(id) ?? (await driver.status(id).catch(() => null))?.runtime?.port;
          await driver.destroy(id);
          if (port !== undefined) await unpublish(id, port);
        },
      };
    },
  };
}
