/**
 * Addresses of the manager and of a managed gateway, as the renderer may use
 * them. They come only from trusted places — the page's own origin, the
 * desktop app's configuration, or the manager's answers (instances.mine,
 * instances.pairDevice) — never from a URL parameter or a deep link; this
 * file only checks their shape and derives the socket address.
 */

import { DOOR_PASS_PARAM } from '@autoclaw/shared';

/** Loopback names on which plain http is acceptable. */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The origin (`scheme://host[:port]`) of an http(s) service URL: https
 * anywhere, plain http only on loopback; no credentials, query or fragment.
 * Throws with a message a person can act on.
 */
export function serviceOrigin(raw: string, what: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`The ${what} address is not a URL.`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new Error(`The ${what} address must use https (plain http only on this machine): ${url.origin}`);
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new Error(`The ${what} address must not carry credentials, a query or a fragment.`);
  }
  return url.origin;
}

/** The tRPC WebSocket of a service at `base` (an origin, or the door `<origin>/i/<id>`). */
export function socketUrlOf(base: string): string {
  const url = new URL(base);
  const scheme = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${url.host}${url.pathname.replace(/\/$/, '')}/trpc`;
}

const DOOR_PATH = /^\/i\/[A-Za-z0-9_-]{1,64}$/;

/**
 * The user's instance behind the manager's one door: `<manager origin>/i/<id>`.
 * The path comes from the manager's pairDevice answer; only that shape is taken.
 */
export function doorUrlOf(managerUrl: string, doorPath: string): string {
  if (!DOOR_PATH.test(doorPath)) throw new Error(`The manager gave an unexpected door path: ${doorPath.slice(0, 80)}`);
  return `${serviceOrigin(managerUrl, 'manager')}${doorPath}`;
}

/** A door pass for each request through the door (see door-pass.ts); absent for a gateway reached directly. */
export type DoorPassSource = () => Promise<string>;

/** `url` with the door pass as its `door_pass` parameter. */
export async function withDoorPass(url: string, passes: DoorPassSource): Promise<string> {
  const u = new URL(url);
  u.searchParams.set(DOOR_PASS_PARAM, await passes());
  return u.toString();
}

/**
 * A fetch that sends the gateway helpers' same-origin paths (`/auth/...`)
 * to the gateway at `base` instead (an origin, or the door `<origin>/i/<id>`
 * with a door pass on every request), as CORS requests without credentials.
 * Anything but an absolute path is refused, so nothing can be redirected.
 */
export function fetchAt(fetchImpl: typeof fetch, base: string, passes?: DoorPassSource): typeof fetch {
  const root = new URL(base);
  const prefix = root.pathname.replace(/\/$/, '');
  return async (input, init) => {
    if (typeof input !== 'string' || !input.startsWith('/') || input.startsWith('//')) {
      throw new Error('fetchAt takes a path like /auth/challenge');
    }
    const url = new URL(`${prefix}${input}`, root.origin).toString();
    return fetchImpl(passes ? await withDoorPass(url, passes) : url, { ...init, mode: 'cors', credentials: 'omit' });
  };
}
