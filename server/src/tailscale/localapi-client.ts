/**
 * A small client for tailscaled's LocalAPI (HTTP with `Host:
 * local-tailscaled.sock` over the transport of localapi-transport.ts). Each
 * call maps the daemon's answer to data or to an AppError:
 * unreachable daemon → NOT_CONFIGURED (details.reason says why), 401/403 →
 * FORBIDDEN, 404 → NOT_FOUND, 412 (serve-config ETag mismatch) → CONFLICT,
 * other 4xx → BAD_REQUEST, 5xx → INTERNAL, no answer in time → TIMEOUT.
 */
import { request as httpRequest, type RequestOptions } from 'node:http';
import { AppError } from '@autoclaw/shared';
import type { z } from 'zod';
import { LOCALAPI_HOST, describeTransport, type LocalApiTransport } from './localapi-transport';
import {
  ServeConfigSchema,
  StatusSchema,
  WhoIsSchema,
  type ServeConfig,
  type TailscaleStatus,
  type WhoIsResponse,
} from './localapi-types';

const MAX_BODY_BYTES = 8 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 5_000;

export interface LocalApiClientOptions {
  transport: LocalApiTransport;
  timeoutMs?: number;
}

export interface ServeConfigWithEtag {
  config: ServeConfig;
  /** Opaque; send back as `If-Match` so a concurrent writer is not overwritten. */
  etag: string;
}

export interface LocalApiClient {
  readonly transport: LocalApiTransport;
  /** `GET /localapi/v0/status` (without peers unless asked). */
  status(opts?: { peers?: boolean }): Promise<TailscaleStatus>;
  /** `GET /localapi/v0/whois?addr=` — an IP or IP:port of a tailnet peer. */
  whois(addr: string): Promise<WhoIsResponse>;
  getServeConfig(): Promise<ServeConfigWithEtag>;
  /** Replaces the serve config; with `etag`, only if nobody changed it since (else CONFLICT). */
  setServeConfig(config: ServeConfig, etag?: string): Promise<void>;
}

/** Why the daemon could not be reached (details.reason of the NOT_CONFIGURED error). */
export type UnreachableReason = 'socket-missing' | 'refused' | 'permission' | 'other';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function unreachable(transport: LocalApiTransport, err: NodeJS.ErrnoException): AppError {
  const reason: UnreachableReason =
    err.code === 'ENOENT' ? 'socket-missing' : err.code === 'ECONNREFUSED' ? 'refused' : err.code === 'EACCES' || err.code === 'EPERM' ? 'permission' : 'other';
  return new AppError('NOT_CONFIGURED', `Tailscale is not reachable on this machine (${describeTransport(transport)}: ${err.code ?? err.message})`, {
    cause: err,
    details: { tailscale: 'unreachable', reason },
  });
}

function httpError(status: number, body: string, what: string): AppError {
  // LocalAPI errors are text/plain from http.Error, or {"error": "..."} from WriteErrorJSON.
  let text = body.trim();
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') text = parsed.error;
  } catch {
    // plain text
  }
  const message = `${what}: ${text.slice(0, 300) || `HTTP ${status}`}`;
  const details = { status, tailscale: 'localapi' };
  if (status === 401 || status === 403) return new AppError('FORBIDDEN', message, { details });
  if (status === 404) return new AppError('NOT_FOUND', message, { details });
  if (status === 412) return new AppError('CONFLICT', message, { details });
  if (status >= 400 && status < 500) return new AppError('BAD_REQUEST', message, { details });
  return new AppError('INTERNAL', message, { details });
}

function parseJson<T>(schema: z.ZodType<T>, body: string, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    throw new AppError('INTERNAL', `${what}: tailscaled answered with invalid JSON`, { cause: err });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AppError('INTERNAL', `${what}: unexpected answer shape (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  return parsed.data;
}

export function createLocalApiClient(opts: LocalApiClientOptions): LocalApiClient {
  const { transport } = opts;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  function send(method: string, path: string, body?: string, extraHeaders: Record<string, string> = {}): Promise<RawResponse> {
    const headers: Record<string, string> = { Host: LOCALAPI_HOST, ...extraHeaders };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const base: RequestOptions =
      transport.kind === 'tcp'
        ? { host: transport.host ?? '127.0.0.1', port: transport.port }
        : { socketPath: transport.kind === 'unix' ? transport.socketPath : transport.pipePath };
    if (transport.kind === 'tcp') headers.Authorization = `Basic ${Buffer.from(`:${transport.token}`).toString('base64')}`;
    return new Promise<RawResponse>((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const req = httpRequest({ ...base, method, path, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            req.destroy();
            finish(() => reject(new AppError('INTERNAL', `LocalAPI ${path}: answer too large`)));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () =>
          finish(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') })),
        );
        res.on('error', (err) => finish(() => reject(unreachable(transport, err))));
      });
      const timer = setTimeout(() => {
        req.destroy();
        finish(() => reject(new AppError('TIMEOUT', `LocalAPI ${path}: no answer from tailscaled within ${timeoutMs} ms`)));
      }, timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => finish(() => reject(unreachable(transport, err))));
      req.end(body);
    });
  }

  return {
    transport,
    async status({ peers = false } = {}) {
      const res = await send('GET', `/localapi/v0/status${peers ? '' : '?peers=false'}`);
      if (res.status !== 200) throw httpError(res.status, res.body, 'status');
      return parseJson(StatusSchema, res.body, 'status');
    },
    async whois(addr) {
      if (addr.trim() === '' || addr.length > 100) throw new AppError('BAD_REQUEST', 'whois: an IP or IP:port is required');
      const res = await send('GET', `/localapi/v0/whois?addr=${encodeURIComponent(addr)}`);
      if (res.status !== 200) throw httpError(res.status, res.body, 'whois');
      return parseJson(WhoIsSchema, res.body, 'whois');
    },
    async getServeConfig() {
      const res = await send('GET', '/localapi/v0/serve-config');
      if (res.status !== 200) throw httpError(res.status, res.body, 'serve-config');
      const etagHeader = res.headers.etag;
      const etag = Array.isArray(etagHeader) ? (etagHeader[0] ?? '') : (etagHeader ?? '');
      // An empty config marshals as `null` or `{}`.
      const config = res.body.trim() === 'null' || res.body.trim() === '' ? {} : (parseJson(ServeConfigSchema, res.body, 'serve-config') as ServeConfig);
      return { config, etag };
    },
    async setServeConfig(config, etag) {
      const res = await send('POST', '/localapi/v0/serve-config', JSON.stringify(config), etag ? { 'If-Match': etag } : {});
      if (res.status !== 200) throw httpError(res.status, res.body, 'serve-config');
    },
  };
}
