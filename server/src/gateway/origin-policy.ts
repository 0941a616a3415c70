/**
 * Which browser origins may open the WebSocket and call /auth/*: the
 * gateway's own origins plus those given with --allow-origin. A request
 * without an Origin header (the CLI, other non-browser clients) is allowed;
 * browsers always send one on cross-origin requests, so a page elsewhere
 * cannot reach a gateway on localhost ("ClawJacking").
 */
export interface OriginPolicy {
  isAllowed(origin: string | undefined): boolean;
  /** The origins allowed now (the port is known only after listen). */
  allowed(): string[];
}

export interface OriginPolicyOptions {
  host: string;
  allowOrigins: readonly string[];
  /** The port the gateway listens on (0 until it listens). */
  port: () => number;
}

function originOf(host: string, port: number): string | null {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  try {
    return new URL(`http://${h}:${port}`).origin;
  } catch {
    return null;
  }
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

export function createOriginPolicy(opts: OriginPolicyOptions): OriginPolicy {
  let cachedPort = -1;
  let cached = new Set<string>();

  function current(): Set<string> {
    const port = opts.port();
    if (port !== cachedPort) {
      const hosts = ['127.0.0.1', 'localhost', '::1'];
      if (!WILDCARD_HOSTS.has(opts.host)) hosts.push(opts.host);
      const own = hosts.map((h) => originOf(h, port)).filter((o): o is string => o !== null);
      cached = new Set([...own, ...opts.allowOrigins]);
      cachedPort = port;
    }
    return cached;
  }

  return {
    isAllowed(origin) {
      if (origin === undefined) return true;
      return current().has(origin.toLowerCase());
    },
    allowed: () => [...current()],
  };
}
