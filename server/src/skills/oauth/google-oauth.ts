/**
 * Connecting a skill to a Google account: OAuth 2 for installed apps with
 * PKCE (S256) and a loopback redirect (RFC 8252), through google-auth-library.
 * The gateway makes the code verifier and keeps it; the browser only ever
 * carries the challenge and the code, which are useless without it. Tokens
 * live in the vault; a call gets a fresh access token (refreshed when it
 * expires within a minute), never the refresh token.
 */
import { randomBytes } from 'node:crypto';
import { AppError } from '@autoclaw/shared';
import type { Store } from '../../store';
import type { Vault } from '../../security';
import type { SkillLogger } from '../types';

export interface OAuthClientSettings {
  clientId: string;
  clientSecret: string | null;
  authEndpoint: string;
  tokenEndpoint: string;
  scopes: readonly string[];
}

interface StoredTokens {
  access_token: string;
  refresh_token: string | null;
  expiry_date: number | null;
  scope: string | null;
}

interface PendingFlow {
  skill: string;
  codeVerifier: string;
  redirectUri: string;
  expiresAt: number;
}

export interface GoogleOAuthDeps {
  store: Store;
  vault: Vault | null;
  now: () => number;
  logger: SkillLogger;
  /** The client settings of a skill's account (NOT_CONFIGURED when incomplete). */
  settingsOf: (skill: string) => OAuthClientSettings;
  /** The gateway's own callback (`http://127.0.0.1:PORT/oauth/callback`), when it listens on loopback. */
  defaultRedirect: () => string | null;
}

const FLOW_TTL_MS = 10 * 60_000;
const REFRESH_MARGIN_MS = 60_000;
const MAX_PENDING = 20;
const tokenKey = (skill: string) => `skill:${skill}:oauth`;
const tokenAad = (skill: string) => `autoclaw-skill-oauth/v1:${skill}`;

/** RFC 8252 §7.3: a loopback IP literal (or localhost), http, any port. */
export function checkLoopbackRedirect(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new AppError('BAD_REQUEST', 'the redirect URI is not a URL');
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (url.protocol !== 'http:' || !['127.0.0.1', '::1', 'localhost'].includes(host) || url.username || url.hash) {
    throw new AppError('BAD_REQUEST', 'the redirect URI must be a loopback address (http://127.0.0.1:PORT/…)');
  }
  return url.href;
}

/** What the token endpoint said, for a person (never the tokens). */
function describeTokenError(err: unknown): string {
  const data = (err as { response?: { data?: { error?: unknown; error_description?: unknown } } }).response?.data;
  if (data && typeof data.error === 'string') return `${data.error}${typeof data.error_description === 'string' ? ` (${data.error_description})` : ''}`;
  return err instanceof Error ? err.message : String(err);
}

export function createGoogleOAuth(deps: GoogleOAuthDeps) {
  const pending = new Map<string, PendingFlow>();
  const refreshing = new Map<string, Promise<string>>();
  const lib = () => import('google-auth-library');

  async function client(skill: string, redirectUri?: string) {
    const s = deps.settingsOf(skill);
    const { OAuth2Client } = await lib();
    return new OAuth2Client({
      clientId: s.clientId,
      ...(s.clientSecret ? { clientSecret: s.clientSecret } : {}),
      ...(redirectUri ? { redirectUri } : {}),
      endpoints: { oauth2AuthBaseUrl: s.authEndpoint, oauth2TokenUrl: s.tokenEndpoint },
      eagerRefreshThresholdMillis: REFRESH_MARGIN_MS,
    });
  }

  const load = (skill: string): StoredTokens | null => {
    const raw = deps.store.getSetting(tokenKey(skill));
    if (raw === null || deps.vault === null) return null;
    try {
      return JSON.parse(deps.vault.decrypt(raw, tokenAad(skill))) as StoredTokens;
    } catch {
      deps.logger.warn('stored OAuth tokens cannot be read with this data key; connect the account again', { skill });
      return null;
    }
  };

  const save = (skill: string, tokens: StoredTokens) => {
    if (deps.vault === null) throw new AppError('NOT_CONFIGURED', 'accounts are connected through the running gateway');
    deps.store.setSetting(tokenKey(skill), deps.vault.encrypt(JSON.stringify(tokens), tokenAad(skill)));
  };

  const sweep = () => {
    const now = deps.now();
    for (const [state, flow] of pending) if (flow.expiresAt <= now) pending.delete(state);
  };

  return {
    /** Starts connecting: the URL to open in the browser (Google's sign-in, with the PKCE challenge). */
    async start(skill: string, redirect?: string): Promise<{ authUrl: string; redirectUri: string }> {
      const redirectUri = redirect ? checkLoopbackRedirect(redirect) : deps.defaultRedirect();
      if (!redirectUri) {
        throw new AppError('BAD_REQUEST', 'this gateway is not on this machine: connect the account from the desktop app, which catches the redirect itself');
      }
      const settings = deps.settingsOf(skill);
      const oauth = await client(skill, redirectUri);
      const { CodeChallengeMethod } = await lib();
      const { codeVerifier, codeChallenge } = await oauth.generateCodeVerifierAsync();
      sweep();
      if (pending.size >= MAX_PENDING) throw new AppError('RATE_LIMITED', 'too many sign-ins waiting; finish or wait ten minutes');
      const state = randomBytes(24).toString('base64url');
      pending.set(state, { skill, codeVerifier, redirectUri, expiresAt: deps.now() + FLOW_TTL_MS });
      const authUrl = oauth.generateAuthUrl({
        access_type: 'offline',
        prompt: 'consent',
        scope: [...settings.scopes],
        state,
        code_challenge: codeChallenge ?? '',
        code_challenge_method: CodeChallengeMethod.S256,
      });
      return { authUrl, redirectUri };
    },

    /** Finishes connecting with the code the redirect brought (single use, within ten minutes). */
    async finish(state: string, code: string): Promise<{ skill: string }> {
      sweep();
      const flow = pending.get(state);
      if (!flow) throw new AppError('NOT_FOUND', 'this sign-in is unknown or expired; start connecting again');
      pending.delete(state);
      const oauth = await client(flow.skill, flow.redirectUri);
      let tokens;
      try {
        ({ tokens } = await oauth.getToken({ code, codeVerifier: flow.codeVerifier, redirect_uri: flow.redirectUri }));
      } catch (err) {
        throw new AppError('FORBIDDEN', `Google did not accept the sign-in: ${describeTokenError(err)}`);
      }
      if (!tokens.access_token) throw new AppError('FORBIDDEN', 'Google answered without an access token');
      save(flow.skill, {
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token ?? null,
        expiry_date: tokens.expiry_date ?? null,
        scope: tokens.scope ?? null,
      });
      deps.logger.info('account connected', { skill: flow.skill });
      return { skill: flow.skill };
    },

    /** A usable access token (refreshed when it expires within a minute), or null when none is connected. */
    async accessToken(skill: string): Promise<string | null> {
      const stored = load(skill);
      if (!stored) return null;
      if (stored.expiry_date === null || stored.expiry_date - deps.now() > REFRESH_MARGIN_MS) return stored.access_token;
      if (!stored.refresh_token) throw new AppError('UNAUTHORIZED', 'the Google access has expired and cannot be renewed; connect the account again');
      let inFlight = refreshing.get(skill);
      if (!inFlight) {
        inFlight = (async () => {
          const oauth = await client(skill);
          oauth.setCredentials({ refresh_token: stored.refresh_token, access_token: stored.access_token, expiry_date: 1 });
          try {
            const { token } = await oauth.getAccessToken();
            const c = oauth.credentials;
            if (!token) throw new Error('no access token');
            save(skill, {
              access_token: token,
              refresh_token: c.refresh_token ?? stored.refresh_token,
              expiry_date: c.expiry_date ?? null,
              scope: c.scope ?? stored.scope,
            });
            return token;
          } catch (err) {
            throw new AppError('UNAUTHORIZED', `Google did not renew the access: ${describeTokenError(err)}; connect the account again`);
          }
        })().finally(() => refreshing.delete(skill));
        refreshing.set(skill, inFlight);
      }
      return inFlight;
    },

    connected: (skill: string) => deps.store.getSetting(tokenKey(skill)) !== null,

    forget(skill: string): void {
      deps.store.setSetting(tokenKey(skill), null);
    },
  };
}

export type GoogleOAuth = ReturnType<typeof createGoogleOAuth>;
