/**
 * Google on loopback, as the gmail and calendar skills meet it:
 *  - OAuth 2 for installed apps: the authorization endpoint (`GET /o/oauth2/v2/auth`)
 *    checks client_id, a loopback redirect_uri, `code_challenge_method=S256`, and
 *    (as if the user consented) redirects back with a code and the state; the
 *    token endpoint (`POST /token`, form-encoded) redeems the code only with
 *    the verifier whose SHA-256 is the challenge (RFC 7636), and refreshes;
 *    errors are RFC 6749 JSON (`invalid_grant`, `invalid_client`, …).
 *  - Gmail v1 (`/gmail/v1/users/me/messages`, `…/{id}`, `…/send`) and Calendar
 *    v3 (`/calendar/v3/calendars/primary/events`) behind Bearer tokens, with
 *    Google's JSON error body (`{"error": {"code", "message", "status"}}`).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { sendJson, startApiServer, type ApiServer } from './api-server-base';

export interface GmailMessage {
  id: string;
  from: string;
  to: string;
  subject: string;
  date: string;
  text: string;
}

export interface CalendarEvent {
  id: string;
  summary: string;
  start: { dateTime?: string; date?: string };
  end: { dateTime?: string; date?: string };
  location?: string;
  description?: string;
}

export interface GoogleApiServer extends ApiServer {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly messages: GmailMessage[];
  readonly sent: Array<{ raw: string }>;
  readonly events: CalendarEvent[];
  /** Every token the server handed out, and how (for asserting refreshes). */
  readonly issued: Array<{ grant: 'authorization_code' | 'refresh_token'; accessToken: string }>;
  /** Lifetime of new access tokens in seconds (default 3599). */
  accessTokenSeconds: number;
  /** When set, the "user" declines consent at the authorization endpoint. */
  denyConsent: boolean;
}

interface CodeGrant {
  clientId: string;
  redirectUri: string;
  challenge: string;
  scope: string;
  expiresAt: number;
}

const isLoopback = (uri: string) => {
  try {
    const url = new URL(uri);
    return url.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
  } catch {
    return false;
  }
};

function oauthError(res: ServerResponse, status: number, error: string, description: string): void {
  sendJson(res, status, { error, error_description: description }, { 'cache-control': 'no-store' });
}

function apiError(res: ServerResponse, code: number, message: string, status: string): void {
  sendJson(res, code, { error: { code, message, errors: [{ message, domain: 'global', reason: status.toLowerCase() }], status } });
}

const b64url = (buf: Buffer) => buf.toString('base64url');

export async function startGoogleApiServer(opts: { messages?: GmailMessage[]; events?: CalendarEvent[] } = {}): Promise<GoogleApiServer> {
  const clientId = `${randomBytes(6).toString('hex')}.apps.googleusercontent.com`;
  const clientSecret = `GOCSPX-${randomBytes(12).toString('base64url')}`;
  const codes = new Map<string, CodeGrant>();
  const refreshTokens = new Map<string, { scope: string }>();
  const accessTokens = new Map<string, { expiresAt: number; scope: string }>();
  const messages = [...(opts.messages ?? [])];
  const events = [...(opts.events ?? [])];
  const sent: Array<{ raw: string }> = [];
  const issued: GoogleApiServer['issued'] = [];

  const handle: GoogleApiServer = Object.assign(
    await startApiServer((req, res) => {
      if (req.method === 'GET' && req.path === '/o/oauth2/v2/auth') {
        const q = req.query;
        const redirectUri = q.get('redirect_uri') ?? '';
        if (q.get('client_id') !== clientId) return oauthError(res, 401, 'invalid_client', 'The OAuth client was not found.');
        if (!isLoopback(redirectUri)) return oauthError(res, 400, 'invalid_request', 'redirect_uri must be a loopback address for a desktop client');
        if (q.get('response_type') !== 'code') return oauthError(res, 400, 'unsupported_response_type', 'response_type must be code');
        if (q.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(q.get('code_challenge') ?? '')) {
          return oauthError(res, 400, 'invalid_request', 'code_challenge_method S256 and a code_challenge are required');
        }
        const back = new URL(redirectUri);
        const state = q.get('state');
        if (state) back.searchParams.set('state', state);
        if (handle.denyConsent) back.searchParams.set('error', 'access_denied');
        else {
          const code = `4/${randomBytes(24).toString('base64url')}`;
          codes.set(code, { clientId, redirectUri, challenge: q.get('code_challenge')!, scope: q.get('scope') ?? '', expiresAt: Date.now() + 60_000 });
          back.searchParams.set('code', code);
          back.searchParams.set('scope', q.get('scope') ?? '');
        }
        res.writeHead(302, { location: back.href });
        res.end();
        return;
      }

      if (req.method === 'POST' && req.path === '/token') {
        if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
          return oauthError(res, 400, 'invalid_request', 'the body must be form-encoded');
        }
        const form = new URLSearchParams(req.text);
        if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
          return oauthError(res, 401, 'invalid_client', 'Unauthorized');
        }
        const grant = form.get('grant_type');
        const issue = (how: 'authorization_code' | 'refresh_token', scope: string, refresh: string | null) => {
          const accessToken = `ya29.${randomBytes(24).toString('base64url')}`;
          accessTokens.set(accessToken, { expiresAt: Date.now() + handle.accessTokenSeconds * 1000, scope });
          issued.push({ grant: how, accessToken });
          sendJson(
            res,
            200,
            { access_token: accessToken, expires_in: handle.accessTokenSeconds, scope, token_type: 'Bearer', ...(refresh ? { refresh_token: refresh } : {}) },
            { 'cache-control': 'no-store' },
          );
        };
        if (grant === 'authorization_code') {
          const code = form.get('code') ?? '';
          const found = codes.get(code);
          codes.delete(code);
          if (!found || found.expiresAt < Date.now()) return oauthError(res, 400, 'invalid_grant', 'Malformed auth code.');
          if (form.get('redirect_uri') !== found.redirectUri) return oauthError(res, 400, 'redirect_uri_mismatch', 'Bad Request');
          const verifier = form.get('code_verifier') ?? '';
          if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || b64url(createHash('sha256').update(verifier).digest()) !== found.challenge) {
            return oauthError(res, 400, 'invalid_grant', 'Invalid code verifier.');
          }
          const refresh = `1//${randomBytes(24).toString('base64url')}`;
          refreshTokens.set(refresh, { scope: found.scope });
          return issue('authorization_code', found.scope, refresh);
        }
        if (grant === 'refresh_token') {
          const known = refreshTokens.get(form.get('refresh_token') ?? '');
          if (!known) return oauthError(res, 400, 'invalid_grant', 'Token has been expired or revoked.');
          return issue('refresh_token', known.scope, null);
        }
        return oauthError(res, 400, 'unsupported_grant_type', `Invalid grant_type: ${grant ?? ''}`);
      }

      // The APIs: a Bearer token that is known, unexpired and has the scope.
      const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
      const token = bearer ? accessTokens.get(bearer) : undefined;
      if (!token || token.expiresAt < Date.now()) {
        return apiError(res, 401, 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.', 'UNAUTHENTICATED');
      }
      const needs = (scope: string) => token.scope.split(' ').includes(`https://www.googleapis.com/auth/${scope}`);

      if (req.path.startsWith('/gmail/v1/users/me/messages')) {
        if (!needs('gmail.readonly') && !needs('gmail.send')) return apiError(res, 403, 'Request had insufficient authentication scopes.', 'PERMISSION_DENIED');
        if (req.method === 'POST' && req.path === '/gmail/v1/users/me/messages/send') {
          if (!needs('gmail.send')) return apiError(res, 403, 'Request had insufficient authentication scopes.', 'PERMISSION_DENIED');
          const raw = (req.json as { raw?: unknown } | undefined)?.raw;
          if (typeof raw !== 'string') return apiError(res, 400, "'raw' RFC822 payload message string or uploading message via /upload/* URL required", 'INVALID_ARGUMENT');
          sent.push({ raw });
          return sendJson(res, 200, { id: `sent${sent.length}`, threadId: `t${sent.length}`, labelIds: ['SENT'] });
        }
        if (req.method === 'GET' && req.path === '/gmail/v1/users/me/messages') {
          const q = (req.query.get('q') ?? '').toLowerCase();
          const max = Number(req.query.get('maxResults') ?? '100');
          const terms = q.split(/\s+/).filter(Boolean);
          const match = (m: GmailMessage) =>
            terms.every((t) => (t.startsWith('from:') ? m.from.toLowerCase().includes(t.slice(5)) : `${m.subject} ${m.text}`.toLowerCase().includes(t)));
          const found = messages.filter(match).slice(0, max);
          return sendJson(res, 200, found.length > 0 ? { messages: found.map((m) => ({ id: m.id, threadId: m.id })), resultSizeEstimate: found.length } : { resultSizeEstimate: 0 });
        }
        const one = /^\/gmail\/v1\/users\/me\/messages\/([^/]+)$/.exec(req.path);
        if (req.method === 'GET' && one) {
          const m = messages.find((x) => x.id === one[1]);
          if (!m) return apiError(res, 404, 'Requested entity was not found.', 'NOT_FOUND');
          const headers = [
            { name: 'From', value: m.from },
            { name: 'To', value: m.to },
            { name: 'Subject', value: m.subject },
            { name: 'Date', value: m.date },
          ];
          const format = req.query.get('format') ?? 'full';
          const wanted = req.query.getAll('metadataHeaders').map((h) => h.toLowerCase());
          const payload =
            format === 'metadata'
              ? { mimeType: 'multipart/alternative', headers: headers.filter((h) => wanted.length === 0 || wanted.includes(h.name.toLowerCase())) }
              : {
                  mimeType: 'multipart/alternative',
                  headers,
                  parts: [
                    { partId: '0', mimeType: 'text/plain', body: { size: m.text.length, data: Buffer.from(m.text).toString('base64url') } },
                    { partId: '1', mimeType: 'text/html', body: { size: 1, data: Buffer.from(`<p>${m.text}</p>`).toString('base64url') } },
                  ],
                };
          return sendJson(res, 200, { id: m.id, threadId: m.id, labelIds: ['INBOX'], snippet: m.text.slice(0, 100), payload });
        }
      }

      if (req.path === '/calendar/v3/calendars/primary/events') {
        if (req.method === 'GET') {
          if (!needs('calendar.readonly') && !needs('calendar.events')) return apiError(res, 403, 'Request had insufficient authentication scopes.', 'PERMISSION_DENIED');
          const min = Date.parse(req.query.get('timeMin') ?? '');
          const max = Date.parse(req.query.get('timeMax') ?? '');
          if (req.query.get('orderBy') === 'startTime' && req.query.get('singleEvents') !== 'true') {
            return apiError(res, 400, 'The requested ordering is not available for the particular query.', 'INVALID_ARGUMENT');
          }
          const startOf = (e: CalendarEvent) => Date.parse(e.start.dateTime ?? `${e.start.date}T00:00:00Z`);
          const items = events
            .filter((e) => (Number.isNaN(min) || startOf(e) >= min) && (Number.isNaN(max) || startOf(e) < max))
            .sort((a, b) => startOf(a) - startOf(b))
            .slice(0, Number(req.query.get('maxResults') ?? '250'));
          return sendJson(res, 200, { kind: 'calendar#events', summary: 'primary', timeZone: 'Europe/Lisbon', items: items.map((e) => ({ kind: 'calendar#event', status: 'confirmed', ...e })) });
        }
        if (req.method === 'POST') {
          if (!needs('calendar.events')) return apiError(res, 403, 'Request had insufficient authentication scopes.', 'PERMISSION_DENIED');
          const body = (req.json ?? {}) as Partial<CalendarEvent>;
          if (!body.start || !body.end) return apiError(res, 400, 'Missing end time.', 'INVALID_ARGUMENT');
          const event: CalendarEvent = { id: `ev${events.length + 1}`, summary: body.summary ?? '', start: body.start, end: body.end };
          if (body.location) event.location = body.location;
          if (body.description) event.description = body.description;
          events.push(event);
          return sendJson(res, 200, { kind: 'calendar#event', status: 'confirmed', htmlLink: `https://www.google.com/calendar/event?eid=${event.id}`, ...event });
        }
      }
      return apiError(res, 404, 'Not Found', 'NOT_FOUND');
    }),
    { clientId, clientSecret, messages, sent, events, issued, accessTokenSeconds: 3599, denyConsent: false },
  );
  return handle;
}
