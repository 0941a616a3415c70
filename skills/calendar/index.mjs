// @ts-check
/**
 * Google Calendar through @googleapis/calendar, with the access token the
 * gateway keeps fresh (the account was connected with OAuth and PKCE).
 */
import { auth as googleAuth, calendar as calendarApi } from '@googleapis/calendar';

/** @param {import('../../server/src/skills/host/api').ToolContext} ctx */
function client(ctx) {
  const token = ctx.oauthToken();
  if (!token) throw new Error('no Google account is connected (Skills → Calendar → Connect Google account)');
  const auth = new googleAuth.OAuth2();
  auth.setCredentials({ access_token: token });
  return calendarApi({ version: 'v3', auth, rootUrl: `${(ctx.setting('apiRoot') ?? 'https://www.googleapis.com').replace(/\/+$/, '')}/` });
}

/** @param {string} value */
function isDate(value) {
  return /^\d{4}-\d{2}-\d{2}$/.test(value);
}

/** @param {string} value @param {string} what */
function instant(value, what) {
  const ms = Date.parse(isDate(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(ms)) throw new Error(`${what} "${value}" is not an ISO 8601 date or date-time`);
  return new Date(ms).toISOString();
}

/** @param {{ date?: string | null; dateTime?: string | null } | undefined} t */
const when = (t) => t?.dateTime ?? (t?.date ? `${t.date} (all day)` : '?');

/** @param {unknown} err */
function explain(err) {
  const e = /** @type {{ status?: number; code?: number | string }} */ (err);
  const status = e.status ?? (typeof e.code === 'number' ? e.code : undefined);
  if (status === 401) throw new Error('Google refused the access token (401); connect the Google account again');
  throw err;
}

/** @type {import('../../server/src/skills/host/api').SkillTools} */
export const tools = {
  async calendar_events({ from, to, limit = 25 }, ctx) {
    const timeMin = from ? instant(from, 'from') : new Date().toISOString();
    const timeMax = to ? instant(to, 'to') : new Date(Date.parse(timeMin) + 7 * 86_400_000).toISOString();
    try {
      const res = await client(ctx).events.list(
        { calendarId: 'primary', timeMin, timeMax, singleEvents: true, orderBy: 'startTime', maxResults: limit },
        { signal: ctx.signal },
      );
      const items = res.data.items ?? [];
      if (items.length === 0) return `Nothing on the calendar between ${timeMin} and ${timeMax}.`;
      return items.map((e) => `- ${when(e.start ?? undefined)} → ${when(e.end ?? undefined)}: ${e.summary ?? '(no title)'}${e.location ? ` @ ${e.location}` : ''}`).join('\n');
    } catch (err) {
      return explain(err);
    }
  },

  async calendar_create_event({ summary, start, end, location, description }, ctx) {
    /** @param {string} v @param {string} what */
    const time = (v, what) => (isDate(v) ? { date: v } : { dateTime: instant(v, what) });
    try {
      const res = await client(ctx).events.insert(
        {
          calendarId: 'primary',
          requestBody: { summary, start: time(start, 'start'), end: time(end, 'end'), ...(location ? { location } : {}), ...(description ? { description } : {}) },
        },
        { signal: ctx.signal },
      );
      return `Created "${res.data.summary}" on ${when(res.data.start ?? undefined)} (${res.data.htmlLink ?? res.data.id}).`;
    } catch (err) {
      return explain(err);
    }
  },
};
