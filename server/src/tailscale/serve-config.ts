/**
 * Pure edits of an `ipn.ServeConfig`: add or remove one HTTPS reverse-proxy
 * mount, keeping every other entry (other ports, other names, Funnel flags,
 * Services, foreground sessions) as it was. Mirrors the Go methods
 * `SetWebHandler` / `RemoveWebHandler` for the HTTPS case.
 */
import { AppError } from '@autoclaw/shared';
import type { ServeConfig, ServeWebServerConfig } from './localapi-types';

export interface WebProxyEntry {
  /** MagicDNS name without the trailing dot (e.g. `box.tail1234.ts.net`), or `${TS_CERT_DOMAIN}` in a sidecar file. */
  host: string;
  /** Tailnet-facing HTTPS port (443 unless several instances share a node). */
  httpsPort: number;
  /** Mount point, `/` for the whole site. */
  mount: string;
  /** Where to proxy, e.g. `http://127.0.0.1:18789`. */
  target: string;
}

export function hostPortKey(host: string, port: number): string {
  return `${host}:${port}`;
}

function clone(config: ServeConfig): ServeConfig {
  return structuredClone(config);
}

/** The proxy target currently at `entry`'s host, port and mount, if any. */
export function currentProxy(config: ServeConfig, entry: Omit<WebProxyEntry, 'target'>): string | undefined {
  return config.Web?.[hostPortKey(entry.host, entry.httpsPort)]?.Handlers?.[entry.mount]?.Proxy;
}

/**
 * Adds the mount. Idempotent when the same target is there; a different
 * handler at the same spot or a non-HTTPS use of the port is a CONFLICT
 * (another service is published there; we do not take it over).
 */
export function withWebProxy(config: ServeConfig, entry: WebProxyEntry): ServeConfig {
  const key = hostPortKey(entry.host, entry.httpsPort);
  const port = String(entry.httpsPort);
  const existingTcp = config.TCP?.[port];
  if (existingTcp && !existingTcp.HTTPS) {
    throw new AppError('CONFLICT', `Tailscale Serve already uses port ${port} for something other than HTTPS`, { details: { port: entry.httpsPort } });
  }
  const existing = config.Web?.[key]?.Handlers?.[entry.mount];
  if (existing) {
    if (existing.Proxy === entry.target && !existing.Path && !existing.Text) return config;
    throw new AppError('CONFLICT', `Tailscale Serve already publishes something else at https://${key}${entry.mount}`, {
      details: { hostPort: key, mount: entry.mount },
    });
  }
  const next = clone(config);
  next.TCP = { ...(next.TCP ?? {}), [port]: { HTTPS: true } };
  const web: Record<string, ServeWebServerConfig> = { ...(next.Web ?? {}) };
  web[key] = { ...(web[key] ?? {}), Handlers: { ...(web[key]?.Handlers ?? {}), [entry.mount]: { Proxy: entry.target } } };
  next.Web = web;
  return next;
}

/** Removes the mount if it proxies to `entry.target`; drops the port when nothing else uses it. */
export function withoutWebProxy(config: ServeConfig, entry: WebProxyEntry): ServeConfig {
  const key = hostPortKey(entry.host, entry.httpsPort);
  if (currentProxy(config, entry) !== entry.target) return config;
  const next = clone(config);
  const handlers = { ...(next.Web?.[key]?.Handlers ?? {}) };
  delete handlers[entry.mount];
  const web = { ...(next.Web ?? {}) };
  if (Object.keys(handlers).length === 0) {
    delete web[key];
    const portStillUsed = Object.keys(web).some((k) => k.endsWith(`:${entry.httpsPort}`));
    if (!portStillUsed && next.TCP) {
      const tcp = { ...next.TCP };
      delete tcp[String(entry.httpsPort)];
      next.TCP = Object.keys(tcp).length > 0 ? tcp : undefined;
      if (next.AllowFunnel) {
        const funnel = { ...next.AllowFunnel };
        delete funnel[key];
        next.AllowFunnel = Object.keys(funnel).length > 0 ? funnel : undefined;
      }
    }
  } else {
    web[key] = { ...web[key], Handlers: handlers };
  }
  next.Web = Object.keys(web).length > 0 ? web : undefined;
  for (const k of ['TCP', 'Web', 'AllowFunnel'] as const) if (next[k] === undefined) delete next[k];
  return next;
}

/**
 * The serve config a Kubernetes sidecar applies at start (`TS_SERVE_CONFIG`):
 * HTTPS 443 on the node's own name (containerboot substitutes
 * `${TS_CERT_DOMAIN}`) proxied to the gateway on loopback. Funnel stays off.
 */
export function sidecarServeConfig(gatewayPort: number): ServeConfig {
  return withWebProxy({}, { host: '${TS_CERT_DOMAIN}', httpsPort: 443, mount: '/', target: `http://127.0.0.1:${gatewayPort}` });
}
