/**
 * Builds what the instances part runs on from the manager's config: the
 * driver (local, possibly published on the tailnet with Tailscale Serve; or
 * Kubernetes with Tailscale sidecars), the URL devices reach an instance at,
 * whose tailnet identity each gateway accepts, and — on Kubernetes — the
 * master key from its Secret instead of the keychain or a file.
 */
import type { Instance } from '@autoclaw/shared';
import { createLocalApiClient, describeTransport, resolveLocalApiTransport } from '../tailscale';
import type { LocalApiClient } from '../tailscale';
import type { ManagerConfig } from './config';
import { createLocalDriver } from './drivers/local';
import type { LocalDriverOptions } from './drivers/local';
import { buildKubernetesDriver, kubernetesMasterKey } from './drivers/kubernetes-setup';
import { createServePublishing } from './drivers/serve-publishing';
import { trackTailnetUrls } from './drivers/tailnet-urls';
import type { TailnetUrls } from './drivers/tailnet-urls';
import type { InstanceDriver, InstanceSpec } from './drivers/types';
import type { Logger } from './gateway-parts';
import type { InstancesPartOptions } from './instances-part';
import type { MasterKeyOptions } from './keys';

export interface DriverSetupOptions {
  now: () => number;
  logger: Logger;
  /** A driver given by the embedder (tests): used as is, nothing is built. */
  driver?: InstanceDriver;
  /** Options of the local driver (e.g. the gateway command in tests). */
  localDriver?: Partial<Omit<LocalDriverOptions, 'dataDir'>>;
}

export interface DriverSetup {
  /** What the instances part takes (absent: its defaults). */
  instances: Pick<InstancesPartOptions, 'driver' | 'deviceUrlOf' | 'tailscaleOf' | 'readyTimeoutMs'>;
  /** Kubernetes: the master key read from (or made in) its Secret. */
  masterKey?: NonNullable<MasterKeyOptions['external']>;
}

/** Kubernetes pods pull an image and schedule: give them longer than a local process. */
const KUBERNETES_READY_TIMEOUT_MS = 300_000;

function ownerLoginOf(config: ManagerConfig): ((ownerEmail: string) => string) | null {
  if (!config.tailscale) return null;
  const fixed = config.tailscale.ownerLogin;
  // Without --tailscale-owner, an owner's tailnet login is their account's e-mail.
  return (ownerEmail) => fixed ?? ownerEmail;
}

export async function setUpDriver(config: ManagerConfig, opts: DriverSetupOptions): Promise<DriverSetup> {
  const { logger } = opts;
  const loginOf = ownerLoginOf(config);

  if (config.driver === 'kubernetes') {
    const flags = config.kubernetes ?? {};
    // The tag is checked against the tailnet policy before anything is made in the cluster.
    let driver: InstanceDriver;
    let urls: TailnetUrls | null = null;
    if (opts.driver) driver = opts.driver;
    else {
      const built = await buildKubernetesDriver(flags, config.tailscale, logger);
      // Devices reach an instance at its sidecar's MagicDNS name (the driver's close() drops the listener).
      if (config.tailscale) urls = trackTailnetUrls(built, logger);
      driver = built;
    }
    const masterKey = await kubernetesMasterKey(flags, logger);
    return {
      masterKey,
      instances: {
        driver,
        readyTimeoutMs: KUBERNETES_READY_TIMEOUT_MS,
        ...(urls ? { deviceUrlOf: (instance: Instance) => urls.deviceUrlOf(instance) } : {}),
        ...(loginOf ? { tailscaleOf: (email: string): InstanceSpec['tailscale'] => ({ ownerLogin: loginOf(email) }) } : {}),
      },
    };
  }

  if (!config.tailscale || !loginOf) return { instances: opts.driver ? { driver: opts.driver } : {} };

  const transport = resolveLocalApiTransport(config.tailscale.socketPath === undefined ? {} : { socketPath: config.tailscale.socketPath });
  const localapi: LocalApiClient = createLocalApiClient({ transport });
  const serve = createServePublishing({ localapi, logger });
  // Fails the start with what to do when this machine is not on a tailnet (NOT_CONFIGURED).
  const name = await serve.init();
  logger.info('instances are published on the tailnet with Tailscale Serve', { node: name, localapi: describeTransport(transport) });
  const inner = opts.driver ?? createLocalDriver({ now: opts.now, ...opts.localDriver, dataDir: config.dataDir });
  // Gateways ask the same tailscaled (the macOS app's port and token they find themselves).
  const socketPath = transport.kind === 'unix' ? transport.socketPath : transport.kind === 'pipe' ? transport.pipePath : undefined;
  return {
    instances: {
      driver: serve.wrap(inner),
      deviceUrlOf: (instance) => serve.deviceUrlOf(instance),
      tailscaleOf: (email) => ({ ownerLogin: loginOf(email), ...(socketPath === undefined ? {} : { socketPath }) }),
    },
  };
}
