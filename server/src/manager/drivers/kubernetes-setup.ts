/**
 * `--driver kubernetes`: the Kubernetes driver's options from the `--kube-*`
 * flags, its Tailscale sidecars' auth keys (minted per instance through the
 * Tailscale API with the operator's OAuth client, or the one pasted key),
 * the tag checked against the tailnet policy at start, and the master key
 * from its Kubernetes Secret. Credentials come from the environment (parsed
 * in config.ts) and never reach a log line.
 */
import { AppError } from '@autoclaw/shared';
import { createTailscaleApiClient } from '../../tailscale';
import type { TailscaleApiClient } from '../../tailscale';
import type { KubernetesFlags, ManagerTailscaleConfig } from '../config';
import type { Logger } from '../gateway-parts';
import { createKubernetesDriver, loadKubernetesMasterKey, MASTER_KEY_SECRET } from './kubernetes';
import type { KubernetesDriver, KubernetesDriverOptions, KubernetesTailscaleOptions } from './kubernetes';

export const DEFAULT_NAMESPACE = 'autoclaw';
const DEFAULTS = { storageSize: '1Gi', cpu: '100m', memory: '128Mi' } as const;

function bad(message: string): AppError {
  return new AppError('BAD_REQUEST', message);
}

/** `REQUEST[:LIMIT]`, e.g. `100m:1` or `256Mi:512Mi`. */
function requestAndLimit(flag: string, value: string | undefined, fallback: string): { request: string; limit?: string } {
  const [request = '', limit, ...rest] = (value ?? fallback).split(':');
  if (request === '' || rest.length > 0 || limit === '') throw bad(`${flag} must be REQUEST or REQUEST:LIMIT, like 100m:1 or 256Mi:512Mi`);
  return limit === undefined ? { request } : { request, limit };
}

function where(flags: KubernetesFlags): Pick<KubernetesDriverOptions, 'kubeconfigPath' | 'inCluster' | 'namespace'> {
  if (flags.config === undefined && !flags.inCluster) {
    throw bad('--driver kubernetes needs --kube-config FILE (or $KUBECONFIG), or --kube-in-cluster when the manager runs in the cluster');
  }
  return {
    ...(flags.config === undefined ? {} : { kubeconfigPath: flags.config }),
    ...(flags.inCluster ? { inCluster: true } : {}),
    namespace: flags.namespace ?? DEFAULT_NAMESPACE,
  };
}

/** The driver's options; the driver validates the values again and names the option it refuses. */
export function kubernetesDriverOptions(flags: KubernetesFlags, tailscale: KubernetesTailscaleOptions | undefined, logger: Logger): KubernetesDriverOptions {
  if (flags.image === undefined || flags.image.trim() === '') throw bad('--driver kubernetes needs --kube-image IMAGE (the gateway image; each instance runs its version as the tag)');
  return {
    ...where(flags),
    image: flags.image,
    ...(flags.storageClass === undefined ? {} : { storageClass: flags.storageClass }),
    storageSize: flags.storageSize ?? DEFAULTS.storageSize,
    cpu: requestAndLimit('--kube-cpu', flags.cpu, DEFAULTS.cpu),
    memory: requestAndLimit('--kube-memory', flags.memory, DEFAULTS.memory),
    ...(tailscale ? { tailscale } : {}),
    logger,
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Checks at start that the OAuth client works and that the tailnet policy
 * lets it tag instances; a refused tag stops the manager with what to change.
 */
async function checkPolicy(api: TailscaleApiClient, tags: string[], logger: Logger): Promise<void> {
  try {
    await api.accessToken();
  } catch (err) {
    if (AppError.is(err, 'PROVIDER_AUTH') || AppError.is(err, 'PROVIDER_BAD_REQUEST')) {
      throw new AppError('FORBIDDEN', 'Tailscale refused the OAuth client in TS_API_CLIENT_ID / TS_API_CLIENT_SECRET; check them in the admin console (Settings → OAuth clients)', { cause: err });
    }
    logger.warn('could not reach the Tailscale API to check the instance tag; it is checked again when the first key is minted', { err: errorText(err) });
    return;
  }
  let result;
  try {
    result = await api.checkTags(tags);
  } catch (err) {
    if (AppError.is(err, 'PROVIDER_AUTH') || AppError.is(err, 'NOT_FOUND')) {
      logger.warn('cannot read the tailnet policy (give the OAuth client the policy_file:read scope to check tags at start); Tailscale checks the tag when a key is minted', { tags });
      return;
    }
    if (AppError.is(err, 'BAD_REQUEST')) throw err; // a malformed tag name
    logger.warn('could not check the instance tag against the tailnet policy', { tags, err: errorText(err) });
    return;
  }
  if (!result.ok) {
    throw new AppError('FORBIDDEN', `The tailnet policy does not allow the instance tag${tags.length > 1 ? 's' : ''} ${tags.join(', ')}:\n  ${result.problems.join('\n  ')}\n${result.guidance}`, {
      details: { reason: 'tag-not-allowed', tags, problems: result.problems },
    });
  }
  logger.info('the tailnet policy allows the instance tag', { tags });
}

/** Sidecar keys: one minted per instance with the OAuth client, or the pasted key for all. */
export async function kubernetesTailscale(ts: ManagerTailscaleConfig, logger: Logger): Promise<KubernetesTailscaleOptions> {
  const credentials = ts.credentials;
  if (!credentials) throw new AppError('NOT_CONFIGURED', 'Tailscale on Kubernetes needs TS_API_CLIENT_ID/TS_API_CLIENT_SECRET or TS_AUTHKEY');
  if (credentials.kind === 'authkey') {
    logger.info('instances join the tailnet with the auth key in TS_AUTHKEY; it must be reusable, pre-approved and carry the instance tag', { tags: ts.tags });
    const key = credentials.authKey;
    return { tags: ts.tags, authKey: async () => key };
  }
  const api = createTailscaleApiClient({
    credentials: { kind: 'oauth', clientId: credentials.clientId, clientSecret: credentials.clientSecret },
    ...(ts.apiUrl === undefined ? {} : { baseUrl: ts.apiUrl }),
  });
  await checkPolicy(api, ts.tags, logger);
  return {
    tags: ts.tags,
    authKey: async (instanceId) => (await api.createAuthKey({ tags: ts.tags, description: `autoclaw ${instanceId}` })).key,
    removeDevice: (deviceId) => api.deleteDevice(deviceId),
  };
}

/** The driver for `--driver kubernetes` (the client library loads on first use; call init() to fail fast). */
export async function buildKubernetesDriver(flags: KubernetesFlags, ts: ManagerTailscaleConfig | undefined, logger: Logger): Promise<KubernetesDriver> {
  const tailscale = ts ? await kubernetesTailscale(ts, logger) : undefined;
  if (!ts) logger.warn('WARNING: instances on Kubernetes are not on a tailnet (no --tailscale); devices cannot reach them from outside the cluster');
  return createKubernetesDriver(kubernetesDriverOptions(flags, tailscale, logger));
}

/** The master key from its Kubernetes Secret (made once), for loadManagerKeys' `external`. */
export async function kubernetesMasterKey(flags: KubernetesFlags, logger: Logger): Promise<{ key: Buffer; source: 'kubernetes'; where: string }> {
  const w = where(flags);
  const { key, created } = await loadKubernetesMasterKey(w);
  const name = `the Kubernetes Secret ${w.namespace}/${MASTER_KEY_SECRET}`;
  if (created) logger.info('made the master key; it is kept in a Kubernetes Secret — back it up with the cluster', { secret: `${w.namespace}/${MASTER_KEY_SECRET}` });
  return { key, source: 'kubernetes', where: name };
}
