/**
 * The Bot Connector API of one Teams run: an app token from the token
 * endpoint (client credentials: app id and password, scope of the Bot
 * Framework), kept until shortly before it expires, and the calls that
 * send, update and type into a conversation at the activity's serviceUrl.
 */
import { AppError } from '@autoclaw/shared';
import type { HttpClient } from '../http-client';
import { platformError } from '../platform-error';

const LABEL = 'Microsoft Teams';
const SCOPE = 'https://api.botframework.com/.default';

export interface ConnectorActivity {
  type: 'message' | 'typing';
  text?: string;
  textFormat?: 'markdown' | 'plain';
  replyToId?: string;
  attachments?: Array<{ contentType: string; contentUrl: string; name: string }>;
}

export interface Connector {
  /** Fetches a token now (proves the app id and password). */
  token(signal: AbortSignal): Promise<string>;
  send(serviceUrl: string, conversationId: string, activity: ConnectorActivity, signal: AbortSignal): Promise<{ id: string }>;
  update(serviceUrl: string, conversationId: string, activityId: string, activity: ConnectorActivity, signal: AbortSignal): Promise<void>;
}

export function createConnector(opts: { http: HttpClient; appId: string; appPassword: string; tokenUrl: string; now: () => number }): Connector {
  const { http } = opts;
  let cached: { value: string; until: number } | null = null;

  const token = async (signal: AbortSignal): Promise<string> => {
    if (cached && cached.until > opts.now()) return cached.value;
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: opts.appId, client_secret: opts.appPassword, scope: SCOPE });
    let res;
    try {
      res = await http.fetch(opts.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString(), signal });
    } catch (err) {
      throw platformError(LABEL, null, `token endpoint: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const body = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
    if (res.status === 400 || res.status === 401) {
      throw new AppError('UNAUTHORIZED', `Microsoft refused the app id or password (${body.error ?? res.status})`);
    }
    if (!res.ok || !body.access_token) throw platformError(LABEL, res.status, `token endpoint: ${body.error_description ?? body.error ?? `HTTP ${res.status}`}`);
    // Renewed five minutes early, so no call carries one about to expire.
    cached = { value: body.access_token, until: opts.now() + Math.max(60, (body.expires_in ?? 3600) - 300) * 1000 };
    return cached.value;
  };

  const call = async (method: string, url: string, activity: ConnectorActivity, signal: AbortSignal): Promise<{ id?: string }> => {
    const bearer = await token(signal);
    let res;
    try {
      res = await http.fetch(url, { method, headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: JSON.stringify(activity), signal });
    } catch (err) {
      throw platformError(LABEL, null, err instanceof Error ? err.message : String(err), { cause: err });
    }
    const text = await res.text();
    const body = (text ? JSON.parse(text) : {}) as { id?: string; error?: { code?: string; message?: string } };
    if (res.status === 401) cached = null;
    if (!res.ok) {
      const after = Number(res.headers.get('retry-after'));
      throw platformError(LABEL, res.status, body.error?.message ?? `HTTP ${res.status}`, Number.isFinite(after) && after > 0 ? { retryAfterMs: after * 1000 } : {});
    }
    return body;
  };

  const conversationUrl = (serviceUrl: string, conversationId: string) => `${serviceUrl.replace(/\/+$/, '')}/v3/conversations/${encodeURIComponent(conversationId)}/activities`;

  return {
    token,
    async send(serviceUrl, conversationId, activity, signal) {
      const base = conversationUrl(serviceUrl, conversationId);
      const url = activity.replyToId ? `${base}/${encodeURIComponent(activity.replyToId)}` : base;
      const body = await call('POST', url, activity, signal);
      return { id: body.id ?? '' };
    },
    async update(serviceUrl, conversationId, activityId, activity, signal) {
      await call('PUT', `${conversationUrl(serviceUrl, conversationId)}/${encodeURIComponent(activityId)}`, { ...activity, ...{ id: activityId } }, signal);
    },
  };
}
