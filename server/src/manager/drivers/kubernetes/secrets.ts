/**
 * An instance's Secrets:
 * * `…-datakey`: the instance's 32-byte data key (`data-key`), mounted
 *   read-only on a tmpfs for the gateway's `--data-key-file`; never on the
 *   data volume. (Kubernetes keeps Secrets in etcd: enable encryption at rest.)
 * * `…-ts-auth`: the sidecar's auth key (`authkey`) and its serve config
 *   (`serve-config.json`).
 * * `…-ts-state`: created empty; the sidecar writes its node state there
 *   (including `device_id` and `device_fqdn`, which the driver reads).
 * Secret values never reach a log line.
 */
import type { V1Secret } from '@kubernetes/client-node';
import { AUTHKEY_KEY, DATA_KEY_KEY, SERVE_CONFIG_KEY, metadataFor } from './manifests';
import type { InstanceNames } from './options';

export function dataKeySecretManifest(names: InstanceNames, instanceId: string, dataKey: Buffer): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadataFor(names, instanceId, names.dataKeySecret),
    type: 'Opaque',
    immutable: false,
    data: { [DATA_KEY_KEY]: dataKey.toString('base64') },
  };
}

export function tailscaleAuthSecretManifest(names: InstanceNames, instanceId: string, authKey: string, serveConfigJson: string): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadataFor(names, instanceId, names.tailscaleAuthSecret),
    type: 'Opaque',
    data: { [AUTHKEY_KEY]: Buffer.from(authKey).toString('base64'), [SERVE_CONFIG_KEY]: Buffer.from(serveConfigJson).toString('base64') },
  };
}

export function tailscaleStateSecretManifest(names: InstanceNames, instanceId: string): V1Secret {
  return { apiVersion: 'v1', kind: 'Secret', metadata: metadataFor(names, instanceId, names.tailscaleStateSecret), type: 'Opaque' };
}

/** What the sidecar recorded about its node, from the state Secret. */
export interface TailnetDevice {
  deviceId?: string;
  /** MagicDNS name, e.g. `autoclaw-abc.tail1234.ts.net`. */
  fqdn?: string;
  ips?: string[];
}

export function tailnetDeviceFrom(secret: V1Secret): TailnetDevice | null {
  const data = secret.data ?? {};
  const read = (k: string): string | undefined => (data[k] ? Buffer.from(data[k], 'base64').toString('utf8') : undefined);
  const deviceId = read('device_id');
  const fqdn = read('device_fqdn')?.replace(/\.$/, '');
  let ips: string[] | undefined;
  try {
    const raw = read('device_ips');
    if (raw) ips = (JSON.parse(raw) as unknown[]).filter((x): x is string => typeof x === 'string');
  } catch {
    ips = undefined;
  }
  if (!deviceId && !fqdn) return null;
  return { ...(deviceId ? { deviceId } : {}), ...(fqdn ? { fqdn } : {}), ...(ips ? { ips } : {}) };
}
