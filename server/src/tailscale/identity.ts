/**
 * The Tailscale identity check the gateway runs for requests that arrive
 * through Tailscale Serve, on top of device auth.
 *
 * Serve terminates TLS on the tailnet and proxies to the gateway on loopback,
 * adding `X-Forwarded-For` (the caller's tailnet IP) and `Tailscale-User-*`
 * headers. A local process could forge those headers, so the robust check is
 * whois of the forwarded address through the LocalAPI: the node must be a
 * user's (not a tagged) device and its login must be the instance's owner;
 * a `Tailscale-User-Login` header that disagrees with whois is refused.
 * Requests that did not come through Serve (loopback without forwarding
 * headers, or the manager over the cluster network) are left to device auth.
 * The check fails closed: when tailscaled cannot answer, Serve requests are
 * refused.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { AppError } from '@autoclaw/shared';
import type { LocalApiClient } from './localapi-client';
import type { WhoIsResponse } from './localapi-types';

const FORWARD_HEADERS = ['x-forwarded-for', 'tailscale-user-login', 'tailscale-user-name', 'x-forwarded-host', 'x-forwarded-proto'] as const;
const CACHE_MAX = 256;

export interface TailscaleIdentityCheckOptions {
  localapi: Pick<LocalApiClient, 'whois'>;
  /** The owner's tailnet login (e.g. `alice@example.com`); compared case-insensitively. */
  ownerLogin: string | (() => string);
  /** How long a whois answer is reused for the same address (default 30 s; 0 disables). */
  cacheMs?: number;
  now?: () => number;
}

export type IdentityDecision =
  | { allow: true; via: 'direct' }
  | { allow: true; via: 'serve'; login: string; node: string }
  | { allow: false; status: 403 | 503; reason: string };

export interface IncomingLike {
  remoteAddress: string | undefined;
  headers: IncomingHttpHeaders;
}

export interface TailscaleIdentityCheck {
  check(req: IncomingLike): Promise<IdentityDecision>;
}

export function isLoopbackAddress(addr: string | undefined): boolean {
  if (addr === undefined) return false;
  const a = addr.replace(/^::ffff:/, '');
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** The address the nearest proxy (Serve) appended: the last X-Forwarded-For entry. */
export function forwardedClient(headers: IncomingHttpHeaders): string | undefined {
  const xff = header(headers, 'x-forwarded-for');
  if (xff === undefined) return undefined;
  const last = xff.split(',').map((s) => s.trim()).filter((s) => s !== '').at(-1);
  return last === undefined || last.length > 64 ? undefined : last;
}

export function createTailscaleIdentityCheck(opts: TailscaleIdentityCheckOptions): TailscaleIdentityCheck {
  const now = opts.now ?? Date.now;
  const cacheMs = opts.cacheMs ?? 30_000;
  const cache = new Map<string, { at: number; who: WhoIsResponse | null }>();
  const owner = (): string => (typeof opts.ownerLogin === 'function' ? opts.ownerLogin() : opts.ownerLogin).trim().toLowerCase();

  async function whois(addr: string): Promise<WhoIsResponse | null> {
    const hit = cache.get(addr);
    if (hit && now() - hit.at < cacheMs) return hit.who;
    let who: WhoIsResponse | null;
    try {
      who = await opts.localapi.whois(addr);
    } catch (err) {
      // Unknown to the tailnet, or not an address at all (a forged header): nobody.
      if (!AppError.is(err, 'NOT_FOUND') && !AppError.is(err, 'BAD_REQUEST')) throw err;
      who = null;
    }
    if (cacheMs > 0) {
      if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
      cache.set(addr, { at: now(), who });
    }
    return who;
  }

  return {
    async check(req) {
      const forwarded = FORWARD_HEADERS.some((h) => req.headers[h] !== undefined);
      if (!forwarded) return { allow: true, via: 'direct' };
      if (!isLoopbackAddress(req.remoteAddress)) {
        // Serve always connects from loopback; forwarding headers from elsewhere are forged or from an unknown proxy.
        return { allow: false, status: 403, reason: 'forwarded request did not come from the local Tailscale Serve proxy' };
      }
      const client = forwardedClient(req.headers);
      if (client === undefined) return { allow: false, status: 403, reason: 'request through Tailscale Serve without X-Forwarded-For' };
      let who: WhoIsResponse | null;
      try {
        who = await whois(client);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        return { allow: false, status: 503, reason: `cannot verify the Tailscale identity (${why})` };
      }
      if (who === null) return { allow: false, status: 403, reason: `${client} is not a device on this tailnet` };
      const node = who.Node.Name.replace(/\.$/, '');
      if ((who.Node.Tags ?? []).length > 0) return { allow: false, status: 403, reason: `${node} is a tagged device, not a user's device` };
      const login = who.UserProfile.LoginName.trim().toLowerCase();
      const claimed = header(req.headers, 'tailscale-user-login');
      // Serve replaces the header with the caller's login (RFC 2047 Q-encoded when not ASCII; then whois alone decides).
      if (claimed !== undefined && !claimed.startsWith('=?') && claimed.trim().toLowerCase() !== login) {
        return { allow: false, status: 403, reason: 'Tailscale-User-Login does not match the caller\'s tailnet identity' };
      }
      if (login !== owner()) return { allow: false, status: 403, reason: `${login} is not the owner of this instance` };
      return { allow: true, via: 'serve', login, node };
    },
  };
}

/** The part of a fastify request/reply the hook needs (kept structural so this file does not load fastify). */
interface HookRequest {
  socket: { remoteAddress?: string | undefined };
  headers: IncomingHttpHeaders;
}
interface HookReply {
  code(status: number): HookReply;
  header(name: string, value: string): HookReply;
  send(payload: unknown): unknown;
}

/**
 * A fastify `onRequest` hook: `app.addHook('onRequest', tailscaleOnRequest(check))`.
 * Refused requests get `{ error: { code: 'FORBIDDEN', message } }` with 403 (or 503).
 * For the WebSocket upgrade path (outside fastify) call `check.check()` with
 * `{ remoteAddress: req.socket.remoteAddress, headers: req.headers }`.
 */
export function tailscaleOnRequest(check: TailscaleIdentityCheck): (request: HookRequest, reply: HookReply) => Promise<HookReply | undefined> {
  return async (request, reply) => {
    const decision = await check.check({ remoteAddress: request.socket.remoteAddress, headers: request.headers });
    if (decision.allow) return undefined;
    // fastify: an async hook that answered returns the reply so the chain stops.
    reply
      .code(decision.status)
      .header('content-type', 'application/json; charset=utf-8')
      .send({ error: { code: decision.status === 503 ? 'NOT_CONFIGURED' : 'FORBIDDEN', message: decision.reason } });
    return reply;
  };
}
