/**
 * A service account's access token for the Chat API: a JWT assertion signed
 * with the account's private key (RS256), exchanged at the token endpoint
 * (`urn:ietf:params:oauth:grant-type:jwt-bearer`) — the flow Google's own
 * libraries follow, with the endpoint a setting so tests point it at loopback.
 */
import { createSign } from 'node:crypto';
import { AppError } from '@autoclaw/shared';
import type { HttpClient } from '../http-client';
import { platformError } from '../platform-error';

export const CHAT_BOT_SCOPE = 'https://www.googleapis.com/auth/chat.bot';

export interface ServiceAccount {
  client_email: string;
  private_key: string;
  private_key_id?: string;
}

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

export async function serviceAccountToken(opts: { http: HttpClient; account: ServiceAccount; tokenUrl: string; nowMs: number; signal: AbortSignal }): Promise<{ accessToken: string; expiresAt: number }> {
  const iat = Math.floor(opts.nowMs / 1000);
  const header = { alg: 'RS256', typ: 'JWT', ...(opts.account.private_key_id ? { kid: opts.account.private_key_id } : {}) };
  const claims = { iss: opts.account.client_email, scope: CHAT_BOT_SCOPE, aud: opts.tokenUrl, iat, exp: iat + 3600 };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  let signature: Buffer;
  try {
    signature = createSign('RSA-SHA256').update(input).sign(opts.account.private_key);
  } catch {
    throw new AppError('NOT_CONFIGURED', 'the Google Chat service account key cannot sign (is googlechat.serviceAccount the JSON key file?)');
  }
  const form = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: `${input}.${b64url(signature)}` });
  let res;
  try {
    res = await opts.http.fetch(opts.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString(), signal: opts.signal });
  } catch (err) {
    throw platformError('Google Chat', null, `token endpoint: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const body = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
  if (res.status === 400 || res.status === 401) throw new AppError('UNAUTHORIZED', `Google refused the service account (${body.error ?? res.status})`);
  if (!res.ok || !body.access_token) throw platformError('Google Chat', res.status, `token endpoint: ${body.error_description ?? body.error ?? `HTTP ${res.status}`}`);
  return { accessToken: body.access_token, expiresAt: opts.nowMs + (body.expires_in ?? 3600) * 1000 };
}
