// @ts-check
/**
 * Gmail through @googleapis/gmail. The gateway holds the OAuth tokens
 * (connected with PKCE, refreshed when due) and hands this skill only the
 * current access token; the API root is a setting.
 */
import { auth as googleAuth, gmail as gmailApi } from '@googleapis/gmail';

/** @param {import('../../server/src/skills/host/api').ToolContext} ctx */
function client(ctx) {
  const token = ctx.oauthToken();
  if (!token) throw new Error('no Google account is connected (Skills → Gmail → Connect Google account)');
  // google-auth-library's OAuth2Client, as the API package bundles it.
  const auth = new googleAuth.OAuth2();
  auth.setCredentials({ access_token: token });
  return gmailApi({ version: 'v1', auth, rootUrl: `${(ctx.setting('apiRoot') ?? 'https://gmail.googleapis.com').replace(/\/+$/, '')}/` });
}

/**
 * @param {Array<{ name?: string | null; value?: string | null }> | undefined} headers
 * @param {string} name
 */
const header = (headers, name) => headers?.find((h) => h.name?.toLowerCase() === name.toLowerCase())?.value ?? '';

/**
 * The text/plain body of a message (the first one found in its parts).
 * @param {any} part
 * @returns {string}
 */
function plainText(part) {
  if (!part) return '';
  if (part.mimeType === 'text/plain' && part.body?.data) return Buffer.from(part.body.data, 'base64url').toString('utf8');
  for (const child of part.parts ?? []) {
    const text = plainText(child);
    if (text) return text;
  }
  return '';
}

/** @param {unknown} err */
function explain(err) {
  const e = /** @type {{ status?: number; code?: number | string; message?: string }} */ (err);
  const status = e.status ?? (typeof e.code === 'number' ? e.code : undefined);
  if (status === 401) throw new Error('Google refused the access token (401); connect the Google account again');
  if (status === 404) throw new Error('Gmail has no such message (404)');
  throw err;
}

/** @type {import('../../server/src/skills/host/api').SkillTools} */
export const tools = {
  async gmail_search({ query = '', limit = 10 }, ctx) {
    try {
      const api = client(ctx);
      const list = await api.users.messages.list({ userId: 'me', q: query, maxResults: limit }, { signal: ctx.signal });
      const ids = (list.data.messages ?? []).map((m) => m.id).filter((id) => typeof id === 'string');
      if (ids.length === 0) return `No message matches "${query}".`;
      const lines = [];
      for (const id of ids) {
        const msg = await api.users.messages.get(
          { userId: 'me', id, format: 'metadata', metadataHeaders: ['From', 'Subject', 'Date'] },
          { signal: ctx.signal },
        );
        const h = msg.data.payload?.headers ?? undefined;
        lines.push(`- ${header(h, 'Date')} | ${header(h, 'From')} | ${header(h, 'Subject')} (id ${id})`);
      }
      return lines.join('\n');
    } catch (err) {
      return explain(err);
    }
  },

  async gmail_read({ id }, ctx) {
    try {
      const msg = await client(ctx).users.messages.get({ userId: 'me', id, format: 'full' }, { signal: ctx.signal });
      const h = msg.data.payload?.headers ?? undefined;
      const text = plainText(msg.data.payload) || msg.data.snippet || '(no text part)';
      return [`From: ${header(h, 'From')}`, `To: ${header(h, 'To')}`, `Date: ${header(h, 'Date')}`, `Subject: ${header(h, 'Subject')}`, '', text.trim()].join('\n');
    } catch (err) {
      return explain(err);
    }
  },

  async gmail_send({ to, subject, body }, ctx) {
    if (/[\r\n]/.test(to) || /[\r\n]/.test(subject)) return 'The recipient and subject must be one line each.';
    const encodedSubject = /^[\x20-\x7e]*$/.test(subject) ? subject : `=?UTF-8?B?${Buffer.from(subject).toString('base64')}?=`;
    const raw = Buffer.from(
      [`To: ${to}`, `Subject: ${encodedSubject}`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=UTF-8', 'Content-Transfer-Encoding: 8bit', '', body].join('\r\n'),
    ).toString('base64url');
    try {
      const sent = await client(ctx).users.messages.send({ userId: 'me', requestBody: { raw } }, { signal: ctx.signal });
      return `Sent to ${to} (message id ${sent.data.id}).`;
    } catch (err) {
      return explain(err);
    }
  },
};
