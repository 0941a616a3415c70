/**
 * The Tailscale API (`https://api.tailscale.com/api/v2`) as the manager uses
 * it: an OAuth client-credentials token, minting a tagged auth key for an
 * instance's sidecar, reading the policy file to check that the tag is
 * allowed, and removing a deleted instance's device.
 *
 * Secrets (client secret, access token, minted keys) never appear in an error
 * message; this module does not log.
 */
import { AppError } from '@autoclaw/shared';
import { parseHuJson } from './hujson';
import { assertTagNames, checkTagsAllowed, type TagCheckResult } from './policy-check';

export const DEFAULT_TAILSCALE_API = 'https://api.tailscale.com/api/v2';
const REFRESH_MARGIN_MS = 60_000;

export type TailscaleApiCredentials =
  | { kind: 'oauth'; clientId: string; clientSecret: string; /** The tags the OAuth client was created with (for the policy check). */ clientTags?: string[] }
  | { kind: 'api-key'; apiKey: string };

export interface TailscaleApiClientOptions {
  credentials: TailscaleApiCredentials;
  /** Default `https://api.tailscale.com/api/v2`. */
  baseUrl?: string;
  /** Default `-` (the credentials' own tailnet). */
  tailnet?: string;
  timeoutMs?: number;
  now?: () => number;
  fetch?: typeof fetch;
}

export interface AuthKeyRequest {
  tags: string[];
  reusable?: boolean;
  ephemeral?: boolean;
  /** Default true: the device joins without an admin approving it. */
  preauthorized?: boolean;
  /** Default 1 hour: the key is only for the first join. */
  expirySeconds?: number;
  description?: string;
}

export interface MintedAuthKey {
  id: string;
  /** The secret `tskey-auth-…`; store it only in a Kubernetes Secret. */
  key: string;
  expires?: string;
}

export interface PolicyFile {
  policy: unknown;
  etag?: string;
}

export interface TailscaleApiClient {
  accessToken(): Promise<string>;
  getPolicy(): Promise<PolicyFile>;
  /** Reads the policy and checks `tagOwners` for `tags` (see policy-check.ts). */
  checkTags(tags: string[]): Promise<TagCheckResult>;
  /** Checks the tags when the policy is readable, then creates the key; a refused tag is a FORBIDDEN with guidance. */
  createAuthKey(req: AuthKeyRequest): Promise<MintedAuthKey>;
  deleteDevice(deviceId: string): Promise<void>;
}

function errorText(body: string): string {
  try {
    const j = JSON.parse(body) as { message?: unknown; error_description?: unknown; error?: unknown };
    for (const v of [j.message, j.error_description, j.error]) if (typeof v === 'string' && v !== '') return v;
  } catch {
    // not JSON
  }
  return body.trim().slice(0, 300);
}

function apiError(status: number, body: string, what: string): AppError {
  const text = errorText(body) || `HTTP ${status}`;
  const message = `Tailscale API ${what}: ${text}`;
  const details = { service: 'tailscale', status };
  if (status === 401 || status === 403) return new AppError('PROVIDER_AUTH', message, { details });
  if (status === 404) return new AppError('NOT_FOUND', message, { details });
  if (status === 429) return new AppError('PROVIDER_RATE_LIMITED', message, { details });
  if (status >= 400 && status < 500) return new AppError('PROVIDER_BAD_REQUEST', message, { details });
  return new AppError('PROVIDER_UNAVAILABLE', message, { details });
}

export function createTailscaleApiClient(opts: TailscaleApiClientOptions): TailscaleApiClient {
  const base = (opts.baseUrl ?? DEFAULT_TAILSCALE_API).replace(/\/+$/, '');
  const tailnet = encodeURIComponent(opts.tailnet ?? '-');
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const doFetch = opts.fetch ?? fetch;
  const creds = opts.credentials;
  let cached: { token: string; expiresAt: number } | null = null;

  async function call(path: string, init: RequestInit, what: string): Promise<{ status: number; body: string; headers: Headers }> {
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      const timeout = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      throw new AppError(timeout ? 'TIMEOUT' : 'PROVIDER_UNAVAILABLE', `Tailscale API ${what}: ${timeout ? 'no answer in time' : 'unreachable'}`, {
        cause: err,
        details: { service: 'tailscale' },
      });
    }
    return { status: res.status, body: await res.text(), headers: res.headers };
  }

  async function accessToken(): Promise<string> {
    if (creds.kind === 'api-key') return creds.apiKey;
    if (cached && now() < cached.expiresAt - REFRESH_MARGIN_MS) return cached.token;
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: creds.clientId, client_secret: creds.clientSecret });
    const res = await call('/oauth/token', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' }, body: form.toString() }, 'OAuth token');
    if (res.status !== 200) throw apiError(res.status, res.body, 'OAuth token');
    let parsed: { access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(res.body) as typeof parsed;
    } catch (err) {
      throw new AppError('PROVIDER_UNAVAILABLE', 'Tailscale API OAuth token: invalid JSON answer', { cause: err });
    }
    if (typeof parsed.access_token !== 'string' || parsed.access_token === '') {
      throw new AppError('PROVIDER_UNAVAILABLE', 'Tailscale API OAuth token: no access_token in the answer');
    }
    const expiresIn = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 3600;
    cached = { token: parsed.access_token, expiresAt: now() + expiresIn * 1000 };
    return cached.token;
  }

  async function authed(path: string, init: RequestInit, what: string): Promise<{ status: number; body: string; headers: Headers }> {
    const token = await accessToken();
    const headers = new Headers(init.headers);
    headers.set('Authorization', `Bearer ${token}`);
    const res = await call(path, { ...init, headers }, what);
    if (res.status === 401 && creds.kind === 'oauth') cached = null; // a revoked token: fetch a new one next time
    return res;
  }

  const clientTags = creds.kind === 'oauth' ? (creds.clientTags ?? []) : [];

  async function getPolicy(): Promise<PolicyFile> {
    const res = await authed(`/tailnet/${tailnet}/acl`, { method: 'GET', headers: { Accept: 'application/hujson' } }, 'read policy file');
    if (res.status !== 200) throw apiError(res.status, res.body, 'read policy file');
    const etag = res.headers.get('etag') ?? undefined;
    return { policy: parseHuJson(res.body), ...(etag ? { etag } : {}) };
  }

  return {
    accessToken,
    getPolicy,
    async checkTags(tags) {
      const { policy } = await getPolicy();
      return checkTagsAllowed(policy, tags, clientTags);
    },
    async createAuthKey(req) {
      assertTagNames(req.tags);
      let check: TagCheckResult | null = null;
      try {
        check = checkTagsAllowed((await getPolicy()).policy, req.tags, clientTags);
      } catch (err) {
        // Reading the policy needs the "policy_file:read" scope; without it, let the key request decide.
        if (!AppError.is(err, 'PROVIDER_AUTH') && !AppError.is(err, 'NOT_FOUND')) throw err;
      }
      if (check && !check.ok) {
        throw new AppError('FORBIDDEN', `The tailnet policy does not allow ${req.tags.join(', ')}: ${check.problems.join('; ')}.\n${check.guidance}`, {
          details: { reason: 'tag-not-allowed', tags: req.tags, problems: check.problems },
        });
      }
      const body = {
        capabilities: {
          devices: {
            create: {
              reusable: req.reusable ?? false,
              ephemeral: req.ephemeral ?? false,
              preauthorized: req.preauthorized ?? true,
              tags: req.tags,
            },
          },
        },
        expirySeconds: req.expirySeconds ?? 3600,
        ...(req.description ? { description: req.description.slice(0, 50) } : {}),
      };
      const res = await authed(`/tailnet/${tailnet}/keys`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }, 'create auth key');
      if (res.status === 400 && /tags?.*(invalid|not permitted)/i.test(errorText(res.body))) {
        const guidance = `Check that the tailnet policy file declares ${req.tags.join(', ')} in "tagOwners" and that the OAuth client (scope "auth_keys") was created with that tag or with a tag that owns it.`;
        throw new AppError('FORBIDDEN', `Tailscale refused the tag${req.tags.length > 1 ? 's' : ''} ${req.tags.join(', ')} (${errorText(res.body)}).\n${guidance}`, {
          details: { reason: 'tag-not-allowed', tags: req.tags },
        });
      }
      if (res.status !== 200) throw apiError(res.status, res.body, 'create auth key');
      const parsed = JSON.parse(res.body) as { id?: unknown; key?: unknown; expires?: unknown };
      if (typeof parsed.key !== 'string' || typeof parsed.id !== 'string') throw new AppError('PROVIDER_UNAVAILABLE', 'Tailscale API create auth key: no key in the answer');
      return { id: parsed.id, key: parsed.key, ...(typeof parsed.expires === 'string' ? { expires: parsed.expires } : {}) };
    },
    async deleteDevice(deviceId) {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(deviceId)) throw new AppError('BAD_REQUEST', 'deleteDevice: invalid device id');
      const res = await authed(`/device/${deviceId}`, { method: 'DELETE' }, 'delete device');
      if (res.status === 404) return;
      if (res.status !== 200 && res.status !== 204) throw apiError(res.status, res.body, 'delete device');
    },
  };
}
