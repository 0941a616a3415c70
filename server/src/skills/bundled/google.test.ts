/**
 * The bundled Gmail and Calendar skills with the real @googleapis clients,
 * connected through OAuth 2 with PKCE and a loopback redirect against a local
 * server speaking Google's OAuth and API endpoints (which checks the PKCE
 * verifier), tokens refreshed by the gateway.
 */
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startGoogleApiServer, type GoogleApiServer } from '../../testing';
import { runtimeFixture, type RuntimeFixture } from '../test-runtime';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** What the desktop app does: a one-shot loopback listener that catches the redirect. */
async function loopbackCatcher(): Promise<{ redirectUri: string; caught: () => URLSearchParams | null }> {
  let caught: URLSearchParams | null = null;
  const server = createServer((req, res) => {
    caught = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams;
    res.end('You can close this window.');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { redirectUri: `http://127.0.0.1:${(server.address() as { port: number }).port}/oauth/callback`, caught: () => caught };
}

async function setup(skill: 'gmail' | 'calendar'): Promise<{ f: RuntimeFixture; google: GoogleApiServer }> {
  const google = await startGoogleApiServer({
    messages: [
      { id: 'm1', from: 'Anna <anna@example.com>', to: 'me@example.com', subject: 'Garden club on Saturday', date: 'Mon, 4 May 2026 09:12:00 +0100', text: 'We meet at 10:00 by the greenhouse.' },
      { id: 'm2', from: 'Bank <no-reply@bank.example>', to: 'me@example.com', subject: 'Your statement', date: 'Sun, 3 May 2026 07:00:00 +0100', text: 'Statement ready.' },
    ],
    events: [
      { id: 'e1', summary: 'Dentist', start: { dateTime: '2026-05-05T09:30:00+01:00' }, end: { dateTime: '2026-05-05T10:00:00+01:00' }, location: 'Rua Augusta 10' },
      { id: 'e2', summary: 'Garden club', start: { dateTime: '2026-05-09T10:00:00+01:00' }, end: { dateTime: '2026-05-09T12:00:00+01:00' } },
      { id: 'e3', summary: 'Next month', start: { date: '2026-06-20' }, end: { date: '2026-06-21' } },
    ],
  });
  cleanups.push(() => google.close());
  const f = runtimeFixture([], { bundled: [skill], enable: [skill] });
  cleanups.push(() => f.close());
  f.service.setSetting(skill, 'apiRoot', google.url);
  f.service.setSetting(skill, 'authEndpoint', `${google.url}/o/oauth2/v2/auth`);
  f.service.setSetting(skill, 'tokenEndpoint', `${google.url}/token`);
  f.service.setSetting(skill, 'clientId', google.clientId);
  f.service.setSecret(skill, 'clientSecret', google.clientSecret);
  return { f, google };
}

/** Opens the sign-in URL as the system browser would and follows the redirect to the loopback listener. */
async function signIn(
  f: RuntimeFixture,
  skill: string,
  catcher?: Awaited<ReturnType<typeof loopbackCatcher>>,
): Promise<{ state: string; code: string | null; error: string | null; authUrl: URL }> {
  catcher ??= await loopbackCatcher();
  const { authUrl, redirectUri } = await f.service.oauthStart(skill, catcher.redirectUri);
  expect(redirectUri).toBe(catcher.redirectUri);
  const res = await fetch(authUrl);
  expect(res.status).toBe(200);
  const q = catcher.caught()!;
  return { state: q.get('state')!, code: q.get('code'), error: q.get('error'), authUrl: new URL(authUrl) };
}

describe('Google OAuth (PKCE, loopback redirect)', () => {
  it('connects: the browser carries only the S256 challenge and the code; the token endpoint gets the verifier', async () => {
    const { f, google } = await setup('gmail');
    expect(f.service.list()[0]!.oauth).toEqual({ provider: 'google', connected: false });
    expect((await f.call('gmail_search', { query: 'garden' })).content).toBe(
      'gmail_search failed: no Google account is connected (Skills → Gmail → Connect Google account)',
    );
    const { state, code, authUrl } = await signIn(f, 'gmail');
    expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authUrl.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authUrl.searchParams.get('access_type')).toBe('offline');
    expect(authUrl.searchParams.get('scope')).toBe('https://www.googleapis.com/auth/gmail.readonly https://www.googleapis.com/auth/gmail.send');
    expect(authUrl.searchParams.has('code_verifier')).toBe(false);

    expect((await f.service.oauthFinish(state, code!)).oauth).toEqual({ provider: 'google', connected: true });
    const tokenRequest = new URLSearchParams(google.requests.find((r) => r.path === '/token')!.text);
    expect(tokenRequest.get('grant_type')).toBe('authorization_code');
    expect(tokenRequest.get('code_verifier')).toMatch(/^[A-Za-z0-9._~-]{43,128}$/);
    // The tokens are in the vault, encrypted: nothing of them in the database in clear.
    expect(f.store.dump()).not.toContain(google.issued[0]!.accessToken);

    // A state is single use; an unknown one is refused.
    await expect(f.service.oauthFinish(state, code!)).rejects.toThrow(/unknown or expired/);
  });

  it('a code without the right verifier, a declined consent, and a non-loopback redirect are refused', async () => {
    const { f, google } = await setup('gmail');
    const catcher = await loopbackCatcher();
    const first = await signIn(f, 'gmail', catcher);
    const second = await signIn(f, 'gmail', catcher);
    // The first flow's code with the second flow's state (so the second flow's verifier): the server refuses.
    await expect(f.service.oauthFinish(second.state, first.code!)).rejects.toThrow(/Google did not accept the sign-in: invalid_grant \(Invalid code verifier\.\)/);
    google.denyConsent = true;
    const declined = await signIn(f, 'gmail');
    expect(declined).toMatchObject({ code: null, error: 'access_denied' });
    await expect(f.service.oauthStart('gmail', 'https://evil.example/cb')).rejects.toThrow(/must be a loopback address/);
    expect(f.service.list()[0]!.oauth?.connected).toBe(false);
  });
});

describe('gmail skill', () => {
  it('searches, reads and sends through @googleapis/gmail with the connected account', async () => {
    const { f, google } = await setup('gmail');
    const { state, code } = await signIn(f, 'gmail');
    await f.service.oauthFinish(state, code!);
    expect(await f.call('gmail_search', { query: 'from:anna', limit: 5 })).toEqual({
      ok: true,
      content: '- Mon, 4 May 2026 09:12:00 +0100 | Anna <anna@example.com> | Garden club on Saturday (id m1)',
    });
    expect((await f.call('gmail_read', { id: 'm1' })).content).toBe(
      'From: Anna <anna@example.com>\nTo: me@example.com\nDate: Mon, 4 May 2026 09:12:00 +0100\nSubject: Garden club on Saturday\n\nWe meet at 10:00 by the greenhouse.',
    );
    expect(f.service.catalog.needsApproval('gmail_send', 's')).toBe(true);
    expect((await f.call('gmail_send', { to: 'anna@example.com', subject: 'Re: Garden club', body: 'See you there!' })).content).toBe('Sent to anna@example.com (message id sent1).');
    expect(Buffer.from(google.sent[0]!.raw, 'base64url').toString()).toBe(
      'To: anna@example.com\r\nSubject: Re: Garden club\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nSee you there!',
    );
    const api = google.requests.filter((r) => r.path.startsWith('/gmail/'));
    expect(new Set(api.map((r) => r.headers.authorization))).toEqual(new Set([`Bearer ${google.issued[0]!.accessToken}`]));
  });

  it('the gateway refreshes an access token that is about to expire, and the skill uses the new one', async () => {
    const { f, google } = await setup('gmail');
    google.accessTokenSeconds = 30;
    const { state, code } = await signIn(f, 'gmail');
    await f.service.oauthFinish(state, code!);
    expect((await f.call('gmail_search', { query: 'statement' })).ok).toBe(true);
    expect(google.issued.map((i) => i.grant)).toEqual(['authorization_code', 'refresh_token']);
    const last = google.requests.filter((r) => r.path.startsWith('/gmail/')).at(-1)!;
    expect(last.headers.authorization).toBe(`Bearer ${google.issued[1]!.accessToken}`);
  });
});

describe('calendar skill', () => {
  it('lists the coming events and creates one (risky) through @googleapis/calendar', async () => {
    const { f, google } = await setup('calendar');
    const { state, code } = await signIn(f, 'calendar');
    await f.service.oauthFinish(state, code!);
    expect((await f.call('calendar_events', { from: '2026-05-04', to: '2026-05-11' })).content).toBe(
      '- 2026-05-05T09:30:00+01:00 → 2026-05-05T10:00:00+01:00: Dentist @ Rua Augusta 10\n- 2026-05-09T10:00:00+01:00 → 2026-05-09T12:00:00+01:00: Garden club',
    );
    expect(f.service.catalog.needsApproval('calendar_create_event', 's')).toBe(true);
    const created = await f.call('calendar_create_event', { summary: 'Plant garlic', start: '2026-05-06T17:00:00+01:00', end: '2026-05-06T18:00:00+01:00' });
    expect(created.content).toBe('Created "Plant garlic" on 2026-05-06T16:00:00.000Z (https://www.google.com/calendar/event?eid=ev4).');
    expect(google.events.at(-1)).toMatchObject({ summary: 'Plant garlic', start: { dateTime: '2026-05-06T16:00:00.000Z' } });
  });
});
