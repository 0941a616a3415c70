/**
 * Which browser origins may call the manager (HTTP /trpc and the WebSocket):
 * its own origins (loopback names and --host, with the scheme it serves)
 * plus --allow-origin ones. A request without an Origin header (the CLI,
 * the desktop app's main process) is allowed; browsers always send one on
 * cross-origin requests, so a page elsewhere cannot drive a manager on localhost.
 */
import type { OriginPolicy } from './gateway-parts';

export interface ManagerOriginOptions {
  host: string;
  scheme: 'http' | 'https';
  allowOrigins: readonly string[];
  /** The listening port (0 until listen). */
  port: () => number;
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::']);

export function createManagerOrigins(opts: ManagerOriginOptions): OriginPolicy {
  let cachedPort = -1;
  let cached = new Set<string>();
  function current(): Set<string> {
    const port = opts.port();
    if (port !== cachedPort) {
      const hosts = ['127.0.0.1', 'localhost', '[::1]'];
      if (!WILDCARD_HOSTS.has(opts.host)) hosts.push(opts.host.includes(':') ? `[${opts.host}]` : opts.host);
      const own: string[] = [];
      for (const h of hosts) {
        try {
          own.push(new URL(`${opts.scheme}://${h}:${port}`).origin);
        } catch {
          // not a valid host for a URL: no origin to allow
        }
      }
      cached = new Set([...own, ...opts.allowOrigins]);
      cachedPort = port;
    }
    return cached;
  }
  return {
    isAllowed: (origin) => origin === undefined || current().has(origin.toLowerCase()),
    allowed: () => [...current()],
  };
}
