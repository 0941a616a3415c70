/**
 * A local Google Chat for tests (never used by product code): Google's
 * signing certificates (a map of key id → X.509 PEM, made with openssl, with
 * a max-age), the OAuth token endpoint for a service account's JWT-bearer
 * assertion (signature, audience and scope checked), the Chat API v1
 * (`spaces.messages.create`, `patch` with updateMask, `media.download`;
 * Google's `{error: {code, message, status}}` bodies), and the Chat side:
 * events POSTed to the app's endpoint with a bearer JWT issued by
 * chat@system.gserviceaccount.com for the project number — or a bad one.
 */
import { execFileSync } from 'node:child_process';
import { createSign, createVerify, generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenLocal } from './listen-local';
import { createRawServer } from './raw-server';
import { createWaiters } from './waiters';

export interface ChatMessage {
  name: string;
  text: string;
  thread: string | null;
  space: string;
}

export type ChatTokenKind = 'valid' | 'expired' | 'wrong-audience' | 'wrong-issuer' | 'bad-signature' | 'none';

export interface GoogleChatServer {
  /** `googlechat.certsUrl`. */
  certsUrl: string;
  /** `googlechat.tokenUrl`. */
  tokenUrl: string;
  /** `googlechat.apiRoot`. */
  apiRoot: string;
  /** `googlechat.audience`: the project number. */
  projectNumber: string;
  /** `googlechat.serviceAccount`: the JSON key. */
  serviceAccountJson: string;
  /** Messages the app created (patches applied), oldest first. */
  sent: ChatMessage[];
  /** An uploaded file a message event can carry (its attachmentDataRef resource name); `holdFirst`: the first download never gets an answer. */
  hostFile(bytes: Buffer, opts?: { holdFirst?: boolean }): string;
  /** The resource names of the media downloads asked for, in order. */
  downloads: string[];
  /** A MESSAGE event from a user, in a DM unless a space is given. */
  messageEvent(o: { user: { name: string; displayName: string }; text: string; space?: { name: string; displayName: string }; mention?: boolean; attachment?: { resourceName: string; contentName: string; contentType: string } }): Record<string, unknown>;
  /**
   * Posts an event to `endpoint` as Google Chat does; resolves with the HTTP status and body. The token's
   * audience is the project number, or (`audience: 'url'`) the endpoint URL: then it is an OpenID token of
   * accounts.google.com for chat@system.gserviceaccount.com (`wrong-issuer`: for another account's email).
   */
  deliver(endpoint: string, event: Record<string, unknown>, token?: ChatTokenKind, audience?: 'project' | 'url'): Promise<{ status: number; body: unknown }>;
  failSends(count: number, status: number): void;
  /** While on, every request fails with 503 (Google's side is unreachable). */
  unavailable(on: boolean): void;
  waitForSent(pred: (m: ChatMessage) => boolean, timeoutMs?: number): Promise<ChatMessage>;
  close(): Promise<void>;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** A self-signed certificate and its key, as Google publishes the public half. */
function certificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gchat-cert-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-subj', '/CN=chat@system.gserviceaccount.com', '-days', '2'], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startGoogleChatServer(): Promise<GoogleChatServer> {
  const signing = certificate();
  const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const kid = randomUUID().replace(/-/g, '');
  const projectNumber = '123456789012';
  const account = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const clientEmail = 'claw-bot@claw-project.iam.gserviceaccount.com';
  const issued = new Set<string>();
  const sent: ChatMessage[] = [];
  const files = new Map<string, Buffer>();
  const holding = new Set<string>();
  const downloads: string[] = [];
  const waiters = createWaiters('google chat server');
  let failing = { count: 0, status: 500 };
  let down = false;
  let counter = 0;
  let base = '';

  const reply = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
  };
  const googleError = (res: ServerResponse, code: number, status: string, message: string) => reply(res, code, { error: { code, message, status } });

  const checkAssertion = (assertion: string): boolean => {
    const [h, p, s] = assertion.split('.');
    if (!h || !p || !s) return false;
    const ok = createVerify('RSA-SHA256').update(`${h}.${p}`).verify(account.publicKey, Buffer.from(s, 'base64url'));
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as { iss?: string; aud?: string; scope?: string };
    return ok && claims.iss === clientEmail && claims.aud === `${base}/token` && (claims.scope ?? '').split(' ').includes('https://www.googleapis.com/auth/chat.bot');
  };

  const route = (req: IncomingMessage, res: ServerResponse, raw: Buffer, url: URL): void => {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (down) return googleError(res, 503, 'UNAVAILABLE', 'The service is currently unavailable.');
    if (path === '/certs') return reply(res, 200, { [kid]: signing.cert }, { 'cache-control': 'public, max-age=3600' });
    if (path === '/token' && method === 'POST') {
      const form = new URLSearchParams(raw.toString('utf8'));
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer' || !checkAssertion(form.get('assertion') ?? '')) {
        return reply(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
      }
      const token = `ya29.test-${randomUUID()}`;
      issued.add(token);
      return reply(res, 200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer || !issued.has(bearer)) return googleError(res, 401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    let m: RegExpExecArray | null;
    if ((m = /^\/v1\/media\/(.+)$/.exec(path)) && url.searchParams.get('alt') === 'media') {
      const resourceName = decodeURIComponent(m[1] ?? '');
      downloads.push(resourceName);
      // Held: no answer until the server closes.
      if (holding.delete(resourceName)) return;
      const bytes = files.get(resourceName);
      if (!bytes) return googleError(res, 404, 'NOT_FOUND', 'Attachment not found.');
      return void res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length }).end(bytes);
    }
    if ((m = /^\/v1\/(spaces\/[^/]+)\/messages$/.exec(path)) && method === 'POST') {
      if (failing.count > 0) {
        failing.count -= 1;
        return googleError(res, failing.status, 'UNAVAILABLE', 'The service is currently unavailable.');
      }
      const body = JSON.parse(raw.toString('utf8')) as { text?: string; thread?: { name?: string } };
      const space = m[1] ?? '';
      const message: ChatMessage = { name: `${space}/messages/app-${++counter}`, text: body.text ?? '', thread: body.thread?.name ?? null, space };
      if (message.thread && url.searchParams.get('messageReplyOption') === null) return googleError(res, 400, 'INVALID_ARGUMENT', 'A thread needs messageReplyOption.');
      sent.push(message);
      return reply(res, 200, { name: message.name, text: message.text, thread: { name: message.thread ?? `${space}/threads/t-${counter}` }, space: { name: space } });
    }
    if ((m = /^\/v1\/(spaces\/[^/]+\/messages\/[^/]+)$/.exec(path)) && method === 'PATCH') {
      const found = sent.find((x) => x.name === m![1]);
      if (!found) return googleError(res, 404, 'NOT_FOUND', 'Message not found.');
      if (url.searchParams.get('updateMask') !== 'text') return googleError(res, 400, 'INVALID_ARGUMENT', 'updateMask must name the fields to update.');
      found.text = (JSON.parse(raw.toString('utf8')) as { text?: string }).text ?? found.text;
      return reply(res, 200, { name: found.name, text: found.text });
    }
    return googleError(res, 404, 'NOT_FOUND', `no route ${method} ${path}`);
  };

  const server = createRawServer({ route, fail: (res, err) => googleError(res, 500, 'INTERNAL', String(err)), settled: waiters.notify });
  const listener = await listenLocal(server);
  base = `http://127.0.0.1:${listener.port}`;

  const jwt = (kind: ChatTokenKind, endpointUrl: string | null): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', kid };
    const times = { iat: kind === 'expired' ? now - 7200 : now, exp: kind === 'expired' ? now - 3600 : now + 3600 };
    const payload =
      endpointUrl === null
        ? {
            iss: kind === 'wrong-issuer' ? 'someone@else.iam.gserviceaccount.com' : 'chat@system.gserviceaccount.com',
            aud: kind === 'wrong-audience' ? '999999999999' : projectNumber,
            ...times,
          }
        : {
            iss: 'https://accounts.google.com',
            aud: kind === 'wrong-audience' ? `${endpointUrl}/elsewhere` : endpointUrl,
            azp: '113000000000000000000',
            sub: '113000000000000000000',
            email: kind === 'wrong-issuer' ? 'someone@else.iam.gserviceaccount.com' : 'chat@system.gserviceaccount.com',
            email_verified: true,
            ...times,
          };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    const signature = createSign('RSA-SHA256').update(input).sign(kind === 'bad-signature' ? otherKey : signing.key);
    return `${input}.${b64url(signature)}`;
  };

  const api: GoogleChatServer = {
    certsUrl: `${base}/certs`,
    tokenUrl: `${base}/token`,
    apiRoot: `${base}/`,
    projectNumber,
    serviceAccountJson: JSON.stringify({ type: 'service_account', project_id: 'claw-project', private_key_id: 'k1', private_key: account.privateKey, client_email: clientEmail, token_uri: `${base}/token` }, null, 2),
    sent,
    downloads,
    hostFile(bytes, opts = {}) {
      const resourceName = `attachment-${randomUUID()}`;
      files.set(resourceName, bytes);
      if (opts.holdFirst) holding.add(resourceName);
      return resourceName;
    },
    messageEvent(o) {
      const space = o.space ? { name: o.space.name, type: 'ROOM', spaceType: 'SPACE', displayName: o.space.displayName } : { name: `spaces/dm-${o.user.name.split('/')[1]}`, type: 'DM', spaceType: 'DIRECT_MESSAGE', singleUserBotDm: true };
      const id = `m${++counter}`;
      const text = o.mention ? `@Claw ${o.text}` : o.text;
      return {
        type: 'MESSAGE',
        eventTime: new Date().toISOString(),
        space,
        user: { ...o.user, type: 'HUMAN' },
        message: {
          name: `${space.name}/messages/${id}.${id}`,
          sender: { ...o.user, type: 'HUMAN' },
          createTime: new Date().toISOString(),
          text,
          ...(o.mention ? { argumentText: ` ${o.text}`, annotations: [{ type: 'USER_MENTION', startIndex: 0, length: 5, userMention: { user: { name: 'users/app', displayName: 'Claw', type: 'BOT' }, type: 'MENTION' } }] } : { argumentText: text }),
          thread: { name: `${space.name}/threads/${id}` },
          space,
          ...(o.attachment ? { attachment: [{ name: `${space.name}/messages/${id}/attachments/a1`, contentName: o.attachment.contentName, contentType: o.attachment.contentType, attachmentDataRef: { resourceName: o.attachment.resourceName }, source: 'UPLOADED_CONTENT' }] } : {}),
        },
      };
    },
    async deliver(endpoint, event, token = 'valid', audience = 'project') {
      const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Google-Dynamite' };
      if (token !== 'none') headers['authorization'] = `Bearer ${jwt(token, audience === 'url' ? endpoint : null)}`;
      const res = await fetch(endpoint, { method: 'POST', headers, body: JSON.stringify(event) });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
    },
    failSends(count, status) {
      failing = { count, status };
    },
    unavailable(on) {
      down = on;
    },
    waitForSent: (pred, timeoutMs = 10_000) => waiters.until(() => sent.find(pred), timeoutMs, 'a sent message'),
    close: () => listener.close(),
  };
  return api;
}
