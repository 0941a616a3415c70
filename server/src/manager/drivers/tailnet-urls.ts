/**
 * Where devices reach a Kubernetes instance: its sidecar's MagicDNS name
 * (`https://NAME`, Serve on 443), which the sidecar records in its state
 * Secret once it joined the tailnet. Learned when the pod becomes ready and
 * looked up again (in the background) while unknown, so `deviceUrlOf` can
 * stay synchronous; null until then (pairing falls back to the cluster URL).
 */
import type { Instance } from '@autoclaw/shared';
import type { Logger } from '../gateway-parts';
import type { KubernetesDriver } from './kubernetes';

export interface TailnetUrls {
  deviceUrlOf(instance: Instance): string | null;
  /** Looks the instance's device up now (tests and right after provisioning). */
  refresh(instanceId: string): Promise<string | null>;
  stop(): void;
}

export function trackTailnetUrls(driver: Pick<KubernetesDriver, 'onPodEvent' | 'tailnetDevice'>, logger: Logger): TailnetUrls {
  const urls = new Map<string, string>();
  const inFlight = new Map<string, Promise<string | null>>();

  function refresh(instanceId: string): Promise<string | null> {
    let p = inFlight.get(instanceId);
    if (!p) {
      p = driver
        .tailnetDevice(instanceId)
        .then((device) => {
          const fqdn = device?.fqdn;
          if (!fqdn) return null;
          const url = `https://${fqdn}`;
          if (urls.get(instanceId) !== url) logger.info('instance is on the tailnet', { instanceId, url });
          urls.set(instanceId, url);
          return url;
        })
        .catch((err: unknown) => {
          logger.debug('could not read the instance\'s tailnet device yet', { instanceId, err: err instanceof Error ? err.message : String(err) });
          return null;
        })
        .finally(() => inFlight.delete(instanceId));
      inFlight.set(instanceId, p);
    }
    return p;
  }

  const unsubscribe = driver.onPodEvent((event) => {
    if (event.ready) void refresh(event.instanceId);
  });

  return {
    deviceUrlOf(instance) {
      const url = urls.get(instance.id);
      if (url === undefined) void refresh(instance.id);
      return url ?? null;
    },
    refresh,
    stop: unsubscribe,
  };
}
