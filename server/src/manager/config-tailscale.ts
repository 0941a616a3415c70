/**
 * `--tailscale` and its flags, and the Tailscale credentials the Kubernetes
 * driver takes from the environment (part of the manager's configuration,
 * see config.ts).
 */
import { UsageError } from '../gateway';
import type { DriverKind } from './config';
import { envValue } from './env-value';

/** How instance sidecars get their auth key; only ever from the environment, never flags. */
export type TailscaleCredentials =
  /** An OAuth client (scope `auth_keys`) that mints one key per instance. */
  | { kind: 'oauth'; clientId: string; clientSecret: string }
  /** A pasted (reusable, tagged) auth key, used for every instance. */
  | { kind: 'authkey'; authKey: string };

/** `--tailscale` and friends: instances are published on the tailnet. */
export interface ManagerTailscaleConfig {
  /** Local driver: this machine's tailscaled LocalAPI socket (default: the platform's). */
  socketPath?: string;
  /** Tags of the instances' tailnet nodes (Kubernetes sidecars); default `tag:autoclaw`. */
  tags: string[];
  /** The tailnet login every gateway accepts through Serve; default each instance owner's e-mail. */
  ownerLogin?: string;
  /** Kubernetes: TS_API_CLIENT_ID + TS_API_CLIENT_SECRET, or TS_AUTHKEY. */
  credentials?: TailscaleCredentials;
  /** The Tailscale API (AUTOCLAW_TAILSCALE_API_URL; default https://api.tailscale.com/api/v2). */
  apiUrl?: string;
}


export const DEFAULT_TAILSCALE_TAG = 'tag:autoclaw';

const TAG = /^tag:[A-Za-z0-9][A-Za-z0-9-]{0,79}$/;
const LOGIN = /^[^\s@]{1,64}@[^\s@]{1,190}$/;

/** Secrets come from the environment only; a flag would show them in `ps` and shell history. */
function tailscaleCredentials(env: NodeJS.ProcessEnv): TailscaleCredentials | undefined {
  const clientId = envValue(env, 'TS_API_CLIENT_ID');
  const clientSecret = envValue(env, 'TS_API_CLIENT_SECRET');
  const authKey = envValue(env, 'TS_AUTHKEY');
  if ((clientId === undefined) !== (clientSecret === undefined)) throw new UsageError('TS_API_CLIENT_ID and TS_API_CLIENT_SECRET go together (an OAuth client with the auth_keys scope)');
  if (clientId !== undefined && clientSecret !== undefined) {
    if (authKey !== undefined) throw new UsageError('give either an OAuth client (TS_API_CLIENT_ID/TS_API_CLIENT_SECRET) or an auth key (TS_AUTHKEY), not both');
    return { kind: 'oauth', clientId, clientSecret };
  }
  if (authKey !== undefined) {
    if (!authKey.startsWith('tskey-')) throw new UsageError('TS_AUTHKEY must be a Tailscale auth key (tskey-auth-…)');
    return { kind: 'authkey', authKey };
  }
  return undefined;
}

export function tailscaleConfig(values: Record<string, string | boolean | string[] | undefined>, driver: DriverKind, env: NodeJS.ProcessEnv): ManagerTailscaleConfig | undefined {
  const str = (flag: string): string | undefined => (typeof values[flag] === 'string' ? (values[flag] as string) : undefined);
  const socket = str('tailscale-socket');
  const tags = str('tailscale-tags');
  const owner = str('tailscale-owner');
  if (values['tailscale'] !== true) {
    if (socket !== undefined || tags !== undefined || owner !== undefined) throw new UsageError('--tailscale-socket, --tailscale-tags and --tailscale-owner need --tailscale');
    return undefined;
  }
  const out: ManagerTailscaleConfig = { tags: [DEFAULT_TAILSCALE_TAG] };
  if (socket !== undefined) {
    if (driver === 'kubernetes') throw new UsageError('--tailscale-socket is for the local driver; on Kubernetes every instance has its own Tailscale sidecar');
    if (socket.trim() === '') throw new UsageError('--tailscale-socket needs a path');
    out.socketPath = socket;
  }
  if (tags !== undefined) {
    const list = tags.split(',').map((t) => t.trim()).filter((t) => t !== '');
    const bad = list.find((t) => !TAG.test(t));
    if (list.length === 0 || bad !== undefined) throw new UsageError(`--tailscale-tags must be a comma-separated list like tag:autoclaw${bad === undefined ? '' : ` (got "${bad.slice(0, 40)}")`}`);
    out.tags = list;
  }
  if (owner !== undefined) {
    if (!LOGIN.test(owner.trim())) throw new UsageError('--tailscale-owner must be a tailnet login like alice@example.com');
    out.ownerLogin = owner.trim().toLowerCase();
  }
  const apiUrl = envValue(env, 'AUTOCLAW_TAILSCALE_API_URL');
  if (apiUrl !== undefined) {
    if (!/^https?:\/\/[^\s]+$/.test(apiUrl)) throw new UsageError('AUTOCLAW_TAILSCALE_API_URL must be an http(s) URL');
    out.apiUrl = apiUrl;
  }
  if (driver === 'kubernetes') {
    const credentials = tailscaleCredentials(env);
    if (!credentials) {
      throw new UsageError(
        '--driver kubernetes --tailscale needs credentials in the environment: TS_API_CLIENT_ID and TS_API_CLIENT_SECRET ' +
          '(an OAuth client with the auth_keys scope, created with the instance tag), or TS_AUTHKEY (a reusable, pre-approved auth key with that tag)',
      );
    }
    out.credentials = credentials;
  }
  return out;
}
