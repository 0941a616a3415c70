/**
 * A local Bot Framework for tests (never used by product code): the OpenID
 * metadata document and its JWKS (a test RSA key endorsed for `msteams`),
 * the Azure AD token endpoint (client credentials → app token, AADSTS
 * errors), the Bot Connector API (`/v3/conversations/{id}/activities`:
 * send, reply, update; bearer app token required; failures on request), a
 * file download URL, and the channel side: activities POSTed to the bot's
 * messaging endpoint with a JWT signed by the test key — or a bad one.
 */
import { createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenLocal } from './listen-local';
import { createRawServer } from './raw-server';
import { createWaiters } from './waiters';

export interface ConnectorActivity {
  id: string;
  conversationId: string;
  type: string;
  text: string;
  replyToId: string | null;
  attachments: Array<{ contentType: string; contentUrl: string; name: string }>;
}

/** How the activity's token is made: good, or wrong in one way. */
export type TokenKind = 'valid' | 'expired' | 'wrong-audience' | 'wrong-issuer' | 'bad-signature' | 'other-service-url' | 'none';

export interface BotFrameworkServer {
  /** `teams.openIdMetadataUrl`. */
  metadataUrl: string;
  /** `teams.tokenUrl`. */
  tokenUrl: string;
  /** The serviceUrl activities carry (the connector). */
  serviceUrl: string;
  appId: string;
  appPassword: string;
  /** What the bot sent (updates applied), oldest first. */
  activities: ConnectorActivity[];
  /** Token requests and connector calls, in order. */
  calls: Array<{ method: string; path: string; userAgent: string }>;
  /** Serves `bytes` at a pre-authorized download URL (as Teams' file download info carries); `holdFirst`: the first download never gets an answer. */
  hostFile(bytes: Buffer, opts?: { holdFirst?: boolean }): string;
  /** Posts an activity to `endpoint` as the Teams channel does; resolves with the HTTP status. */
  deliver(endpoint: string, activity: Record<string, unknown>, token?: TokenKind): Promise<number>;
  /** A user's message activity (personal chat unless a channel conversation is given). */
  message(o: { from: { id: string; name: string }; text: string; conversation?: { id: string; name: string }; mention?: boolean; attachments?: Array<Record<string, unknown>> }): Record<string, unknown>;
  /** The next `count` connector sends fail with `status`. */
  failSends(count: number, status: number): void;
  /** While on, every request fails with 503 (Microsoft's side is unreachable). */
  unavailable(on: boolean): void;
  waitFor(pred: (a: ConnectorActivity) => boolean, timeoutMs?: number): Promise<ConnectorActivity>;
  close(): Promise<void>;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

export async function startBotFrameworkServer(): Promise<BotFrameworkServer> {
  const appId = randomUUID();
  const appPassword = 'teams-test-app-password';
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  const kid = 'test-key-1';
  const issued = new Set<string>();
  const activities: ConnectorActivity[] = [];
  const calls: BotFrameworkServer['calls'] = [];
  const files = new Map<string, Buffer>();
  const holding = new Set<string>();
  const waiters = createWaiters('bot framework server');
  let failing = { count: 0, status: 500 };
  let down = false;
  let counter = 0;
  let base = '';

  const reply = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
  };
  const connectorError = (res: ServerResponse, status: number, code: string, message: string) => reply(res, status, { error: { code, message } });

  const route = (req: IncomingMessage, res: ServerResponse, raw: Buffer, url: URL): void => {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    calls.push({ method, path, userAgent: req.headers['user-agent'] ?? '' });
    if (down) return connectorError(res, 503, 'ServiceUnavailable', 'The service is unavailable');
    if (path === '/v1/.well-known/openidconfiguration') {
      return reply(res, 200, { issuer: 'https://api.botframework.com', authorization_endpoint: 'https://invalid.botframework.com', jwks_uri: `${base}/v1/.well-known/keys`, id_token_signing_alg_values_supported: ['RS256'], token_endpoint_auth_methods_supported: ['private_key_jwt'] });
    }
    if (path === '/v1/.well-known/keys') return reply(res, 200, { keys: [{ kty: 'RSA', use: 'sig', kid, n: jwk.n, e: jwk.e, endorsements: ['msteams'] }] });
    if (path === '/botframework.com/oauth2/v2.0/token' && method === 'POST') {
      const form = new URLSearchParams(raw.toString('utf8'));
      if (form.get('grant_type') !== 'client_credentials' || form.get('scope') !== 'https://api.botframework.com/.default') {
        return reply(res, 400, { error: 'invalid_request', error_description: 'AADSTS900144: The request body must contain the following parameter: grant_type.' });
      }
      if (form.get('client_id') !== appId || form.get('client_secret') !== appPassword) {
        return reply(res, 401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' });
      }
      const token = `bf-access-${randomUUID()}`;
      issued.add(token);
      return reply(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token });
    }
    let m: RegExpExecArray | null;
    if ((m = /^\/files\/([a-z0-9-]+)$/.exec(path))) {
      // Held: no answer until the server closes.
      if (holding.delete(m[1] ?? '')) return;
      const bytes = files.get(m[1] ?? '');
      if (!bytes) return connectorError(res, 404, 'NotFound', 'no such file');
      return void res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length }).end(bytes);
    }
    if ((m = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?$/.exec(path))) {
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!bearer || !issued.has(bearer)) return connectorError(res, 401, 'Unauthorized', 'Authorization has been denied for this request.');
      const conversationId = decodeURIComponent(m[1] ?? '');
      const activityId = m[2] ? decodeURIComponent(m[2]) : null;
      const body = JSON.parse(raw.toString('utf8')) as { type?: string; text?: string; attachments?: ConnectorActivity['attachments']; replyToId?: string };
      if (method === 'POST') {
        if (body.type !== 'typing' && failing.count > 0) {
          failing.count -= 1;
          return connectorError(res, failing.status, 'ServiceError', 'The service is unavailable');
        }
        const activity: ConnectorActivity = { id: `act-${++counter}`, conversationId, type: body.type ?? 'message', text: body.text ?? '', replyToId: activityId ?? body.replyToId ?? null, attachments: body.attachments ?? [] };
        activities.push(activity);
        return reply(res, 201, { id: activity.id });
      }
      if (method === 'PUT' && activityId) {
        const found = activities.find((a) => a.id === activityId && a.conversationId === conversationId);
        if (!found) return connectorError(res, 404, 'ActivityNotFound', 'The activity does not exist');
        found.text = body.text ?? found.text;
        return reply(res, 200, { id: found.id });
      }
    }
    return connectorError(res, 404, 'NotFound', `no route ${method} ${path}`);
  };

  const server = createRawServer({ route, fail: (res, err) => connectorError(res, 500, 'ServiceError', String(err)), settled: waiters.notify });
  const listener = await listenLocal(server);
  base = `http://127.0.0.1:${listener.port}`;

  const jwt = (kind: TokenKind, serviceUrl: string): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', kid, x5t: kid };
    const payload = {
      serviceurl: kind === 'other-service-url' ? 'https://evil.example.net/' : serviceUrl,
      nbf: now - 60,
      // Past the five minutes of clock skew the Bot Framework allows.
      exp: kind === 'expired' ? now - 600 : now + 3600,
      iss: kind === 'wrong-issuer' ? 'https://sts.windows.net/other/' : 'https://api.botframework.com',
      aud: kind === 'wrong-audience' ? randomUUID() : appId,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    const signature = createSign('RSA-SHA256').update(input).sign(kind === 'bad-signature' ? otherKey : privateKey);
    return `${input}.${b64url(signature)}`;
  };

  const api: BotFrameworkServer = {
    metadataUrl: `${base}/v1/.well-known/openidconfiguration`,
    tokenUrl: `${base}/botframework.com/oauth2/v2.0/token`,
    serviceUrl: `${base}/`,
    appId,
    appPassword,
    activities,
    calls,
    hostFile(bytes, opts = {}) {
      const id = randomUUID();
      files.set(id, bytes);
      if (opts.holdFirst) holding.add(id);
      return `${base}/files/${id}`;
    },
    async deliver(endpoint, activity, token = 'valid') {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (token !== 'none') headers['authorization'] = `Bearer ${jwt(token, String(activity['serviceUrl']))}`;
      const res = await fetch(endpoint, { method: 'POST', headers, body: JSON.stringify(activity) });
      await res.arrayBuffer();
      return res.status;
    },
    message(o) {
      const conversation = o.conversation
        ? { id: o.conversation.id, name: o.conversation.name, conversationType: 'channel', isGroup: true, tenantId: 'tenant-1' }
        : { id: `a:personal-${o.from.id}`, conversationType: 'personal', tenantId: 'tenant-1' };
      const recipient = { id: `28:${appId}`, name: 'Claw' };
      return {
        type: 'message',
        id: `${Date.now()}${++counter}`,
        timestamp: new Date().toISOString(),
        serviceUrl: api.serviceUrl,
        channelId: 'msteams',
        from: { id: o.from.id, name: o.from.name, aadObjectId: randomUUID() },
        conversation,
        recipient,
        text: o.mention ? `<at>Claw</at> ${o.text}` : o.text,
        textFormat: 'plain',
        ...(o.mention ? { entities: [{ type: 'mention', mentioned: recipient, text: '<at>Claw</at>' }] } : {}),
        ...(o.attachments ? { attachments: o.attachments } : {}),
        channelData: { tenant: { id: 'tenant-1' }, ...(o.conversation ? { team: { id: 'team-1', name: 'Team One' }, channel: { id: o.conversation.id } } : {}) },
      };
    },
    failSends(count, status) {
      failing = { count, status };
    },
    unavailable(on) {
      down = on;
    },
    waitFor: (pred, timeoutMs = 10_000) => waiters.until(() => activities.find(pred), timeoutMs, 'a connector activity'),
    close: () => listener.close(),
  };
  return api;
}
