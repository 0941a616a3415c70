/**
 * Addresses of the manager and of a managed gateway, as the renderer may use
 * them. They come only from trusted places — the page's own origin, the
 * desktop app's configuration, or the manager's answers (instances.mine,
 * instances.pairDevice) — never from a URL parameter or a deep link; this
 * file only checks their shape and derives the socket address.
 */

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

/** The tRPC WebSocket of a service at `origin`. */
export function socketUrlOf(origin: string): string {
  const url = new URL(origin);
  const scheme = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${url.host}/trpc`;
}

/**
 * A fetch that sends the gateway helpers' same-origin paths (`/auth/...`)
 * to the gateway at `origin` instead, as CORS requests without credentials.
 * Anything but an absolute path is refused, so nothing can be redirected.
 */
export function fetchAt(fetchImpl: typeof fetch, origin: string): typeof fetch {
  return (input, init) => {
    if (typeof input !== 'string' || !input.startsWith('/') || input.startsWith('//')) {
      return Promise.reject(new Error('fetchAt takes a path like /auth/challenge'));
    }
    return fetchImpl(new URL(input, origin), { ...init, mode: 'cors', credentials: 'omit' });
  };
}
