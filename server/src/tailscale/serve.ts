/**
 * Publishes an instance on the tailnet with Tailscale Serve: HTTPS on this
 * node's MagicDNS name, proxied to the gateway on loopback. A
 * read-modify-write of the serve config guarded by its ETag, retried when
 * another writer got in between, so entries of other programs survive.
 */
import { AppError } from '@autoclaw/shared';
import type { LocalApiClient } from './localapi-client';
import type { ServeConfig } from './localapi-types';
import { currentProxy, withWebProxy, withoutWebProxy, type WebProxyEntry } from './serve-config';

const MAX_ATTEMPTS = 4;

export interface PublishOptions {
  localapi: Pick<LocalApiClient, 'status' | 'getServeConfig' | 'setServeConfig'>;
  /** The gateway's loopback port. */
  port: number;
  /** Tailnet-facing HTTPS port; 443 unless several instances share this node. */
  httpsPort?: number;
  mount?: string;
}

export interface PublishedInstance {
  /** e.g. `https://box.tail1234.ts.net` (with `:PORT` when not 443). */
  url: string;
  host: string;
  httpsPort: number;
}

/** This node's MagicDNS name (no trailing dot), once it is running on a tailnet. */
export async function nodeDnsName(localapi: Pick<LocalApiClient, 'status'>): Promise<string> {
  const status = await localapi.status();
  if (status.BackendState !== 'Running') {
    throw new AppError('NOT_CONFIGURED', `Tailscale is not connected on this machine (state ${status.BackendState}); run "tailscale up" first`, {
      details: { tailscale: 'not-running', backendState: status.BackendState },
    });
  }
  const name = status.Self?.DNSName?.replace(/\.$/, '') ?? '';
  if (name === '') {
    throw new AppError('NOT_CONFIGURED', 'This Tailscale node has no MagicDNS name; enable MagicDNS and HTTPS certificates for the tailnet', {
      details: { tailscale: 'no-magicdns' },
    });
  }
  return name;
}

function entryFor(host: string, opts: PublishOptions): WebProxyEntry {
  if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65_535) throw new AppError('BAD_REQUEST', 'publish: port must be 1–65535');
  const httpsPort = opts.httpsPort ?? 443;
  if (!Number.isInteger(httpsPort) || httpsPort < 1 || httpsPort > 65_535) throw new AppError('BAD_REQUEST', 'publish: httpsPort must be 1–65535');
  const mount = opts.mount ?? '/';
  if (!mount.startsWith('/')) throw new AppError('BAD_REQUEST', 'publish: mount must start with "/"');
  return { host, httpsPort, mount, target: `http://127.0.0.1:${opts.port}` };
}

async function update(localapi: PublishOptions['localapi'], edit: (config: ServeConfig) => ServeConfig): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const { config, etag } = await localapi.getServeConfig();
    const next = edit(config);
    if (next === config) return; // nothing to change
    try {
      await localapi.setServeConfig(next, etag);
      return;
    } catch (err) {
      // 412: someone else wrote in between; read again.
      if (AppError.is(err, 'CONFLICT') && attempt < MAX_ATTEMPTS) continue;
      throw err;
    }
  }
}

/** Adds (idempotently) the HTTPS proxy for an instance. */
export async function publishInstance(opts: PublishOptions): Promise<PublishedInstance> {
  const host = await nodeDnsName(opts.localapi);
  const entry = entryFor(host, opts);
  await update(opts.localapi, (config) => withWebProxy(config, entry));
  const suffix = entry.httpsPort === 443 ? '' : `:${entry.httpsPort}`;
  return { url: `https://${host}${suffix}${entry.mount === '/' ? '' : entry.mount}`, host, httpsPort: entry.httpsPort };
}

/** Removes the instance's proxy (only if it still points at its port); a no-op when absent. */
export async function unpublishInstance(opts: PublishOptions): Promise<void> {
  const host = await nodeDnsName(opts.localapi);
  const entry = entryFor(host, opts);
  await update(opts.localapi, (config) => (currentProxy(config, entry) === entry.target ? withoutWebProxy(config, entry) : config));
}
