/**
 * Test support: a local server speaking the Tailscale API paths the manager
 * uses, under `/api/v2`:
 * * `POST /oauth/token` (form `client_id`, `client_secret`) → `{access_token,
 *   token_type, expires_in, scope}`; bad credentials → 401 OAuth error body
 *   `{"error":"invalid_client","error_description":…}`.
 * * `GET /tailnet/-/acl` → the policy as HuJSON (`Content-Type:
 *   application/hujson`, with an `ETag`), or JSON with `Accept:
 *   application/json`; 403 when the client lacks the policy read scope.
 * * `POST /tailnet/-/keys` → a new auth key; tags not allowed by `tagOwners`
 *   for the client → 400 `{"message":"requested tags [tag:x] are invalid or not permitted"}`.
 * * `DELETE /device/{id}` → 200, or 404 `{"message":"not found"}`.
 * Other errors use the API's `{"message": …}` body.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { standardizeHuJson } from '../tailscale';

export interface ApiOAuthClient {
  id: string;
  secret: string;
  /** Tags the client was created with. */
  tags: string[];
  /** Whether the client may read the policy file (scope policy_file:read). */
  canReadPolicy?: boolean;
}

export interface MintedKeyRecord {
  id: string;
  key: string;
  clientId: string;
  body: Record<string, unknown>;
}

export interface TailscaleApiServer {
  /** e.g. `http://127.0.0.1:PORT/api/v2` — pass as the client's baseUrl. */
  readonly baseUrl: string;
  readonly keys: MintedKeyRecord[];
  readonly deletedDevices: string[];
  readonly tokenRequests: number;
  setPolicy(hujson: string): void;
  addDevice(id: string): void;
  close(): Promise<void>;
}

export const DEFAULT_POLICY = `// Test tailnet policy
{
  "tagOwners": {
    "tag:autoclaw": ["autogroup:admin", "tag:manager"], // instances
    "tag:other": ["autogroup:admin"],
  },
  /* who reaches what */
  "acls": [{"action": "accept", "src": ["autogroup:member"], "dst": ["tag:autoclaw:443"]},],
}
`;

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function tagAllowed(policy: unknown, tag: string, clientTags: string[]): boolean {
  const owners = (policy as { tagOwners?: Record<string, string[]> }).tagOwners ?? {};
  const list = owners[tag];
  if (!list) return false;
  return clientTags.includes(tag) || list.some((o) => clientTags.includes(o));
}

export async function startTailscaleApiServer(opts: { clients: ApiOAuthClient[]; policy?: string; tokenTtlSeconds?: number }): Promise<TailscaleApiServer> {
  let policy = opts.policy ?? DEFAULT_POLICY;
  const tokens = new Map<string, ApiOAuthClient>();
  const keys: MintedKeyRecord[] = [];
  const devices = new Set<string>();
  const deletedDevices: string[] = [];
  let tokenRequests = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://api.local');
    const path = url.pathname;
    if (path === '/api/v2/oauth/token') {
      if (req.method !== 'POST') return send(res, 405, { message: 'method not allowed' });
      tokenRequests++;
      const form = new URLSearchParams(await readBody(req));
      const client = opts.clients.find((c) => c.id === form.get('client_id'));
      if (!client || client.secret !== form.get('client_secret')) {
        return send(res, 401, { error: 'invalid_client', error_description: 'client authentication failed' });
      }
      const token = `tskey-api-${randomBytes(12).toString('hex')}`;
      tokens.set(token, client);
      return send(res, 200, { access_token: token, token_type: 'Bearer', expires_in: opts.tokenTtlSeconds ?? 3600, scope: 'auth_keys devices:core' });
    }
    const auth = req.headers.authorization ?? '';
    const client = auth.startsWith('Bearer ') ? tokens.get(auth.slice(7)) : undefined;
    if (!client) return send(res, 401, { message: 'API token invalid' });

    if (path === '/api/v2/tailnet/-/acl' && req.method === 'GET') {
      if (client.canReadPolicy === false) return send(res, 403, { message: 'calling actor does not have enough permissions to perform this function' });
      const etag = `"${createHash('sha256').update(policy).digest('hex')}"`;
      if ((req.headers.accept ?? '').includes('application/json')) return send(res, 200, JSON.parse(standardizeHuJson(policy)), { ETag: etag });
      res.writeHead(200, { 'Content-Type': 'application/hujson', ETag: etag });
      res.end(policy);
      return;
    }
    if (path === '/api/v2/tailnet/-/keys' && req.method === 'POST') {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(await readBody(req)) as Record<string, unknown>;
      } catch {
        return send(res, 400, { message: 'invalid JSON body' });
      }
      const create = (body.capabilities as { devices?: { create?: Record<string, unknown> } } | undefined)?.devices?.create;
      if (!create) return send(res, 400, { message: 'capabilities.devices.create is required' });
      const tags = Array.isArray(create.tags) ? (create.tags as string[]) : [];
      if (tags.length === 0) return send(res, 400, { message: 'tags are required for auth keys created by an OAuth client' });
      const parsedPolicy: unknown = JSON.parse(standardizeHuJson(policy));
      if (!tags.every((t) => tagAllowed(parsedPolicy, t, client.tags))) {
        return send(res, 400, { message: `requested tags [${tags.join(' ')}] are invalid or not permitted` });
      }
      const id = `k${randomBytes(5).toString('hex')}CNTRL`;
      const key = `tskey-auth-${id}-${randomBytes(16).toString('hex')}`;
      keys.push({ id, key, clientId: client.id, body });
      const expires = new Date(Date.now() + Number(body.expirySeconds ?? 7_776_000) * 1000).toISOString();
      return send(res, 200, { id, key, created: new Date().toISOString(), expires, capabilities: body.capabilities, description: body.description ?? '' });
    }
    const device = /^\/api\/v2\/device\/([^/]+)$/.exec(path);
    if (device && req.method === 'DELETE') {
      const id = decodeURIComponent(device[1] ?? '');
      if (!devices.delete(id)) return send(res, 404, { message: 'not found' });
      deletedDevices.push(id);
      res.writeHead(200);
      res.end();
      return;
    }
    return send(res, 404, { message: 'not found' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { message: err instanceof Error ? err.message : String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/api/v2`,
    keys,
    deletedDevices,
    get tokenRequests() {
      return tokenRequests;
    },
    setPolicy(hujson) {
      policy = hujson;
    },
    addDevice(id) {
      devices.add(id);
    },
    close() {
      return new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
