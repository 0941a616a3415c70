/**
 * Test support: a local HTTP server speaking the tailscaled LocalAPI paths we
 * use, on a Unix socket (Linux / open-source macOS) or on a loopback TCP port
 * guarded by a Basic-auth token (the macOS app). Behaves like
 * ipn/localapi: refuses requests with a Referer, an Origin or a Host other
 * than `local-tailscaled.sock` (403 "invalid localapi request"); text/plain
 * errors from http.Error; `serve-config` with an ETag (sha256 of the JSON)
 * and `If-Match` → 412 "etag mismatch"; whois by IP or IP:port → 404 "no
 * match for IP:port".
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalApiRecordedRequest {
  method: string;
  path: string;
  host: string | undefined;
  ifMatch: string | undefined;
}

export interface TailscaleLocalApiServerOptions {
  /** Listen on this Unix socket path. */
  socketPath?: string;
  /** Or listen on 127.0.0.1:0 and require this token as the Basic-auth password. */
  token?: string;
  /** The initial `/status` answer (Go field names). */
  status?: Record<string, unknown>;
}

export interface TailscaleLocalApiServer {
  readonly socketPath: string | undefined;
  readonly port: number | undefined;
  readonly requests: LocalApiRecordedRequest[];
  setStatus(status: Record<string, unknown>): void;
  /** Registers a peer for whois; `ip` matches `ip` and `ip:anyport`. */
  addPeer(ip: string, whois: { Node: Record<string, unknown>; UserProfile: Record<string, unknown> }): void;
  readonly serveConfig: Record<string, unknown>;
  /** Another writer changes the serve config (the ETag changes). */
  replaceServeConfig(config: Record<string, unknown>): void;
  /** The next request to `path` answers with this status and text. */
  failNext(path: string, status: number, text: string): void;
  close(): Promise<void>;
}

export const RUNNING_STATUS: Record<string, unknown> = {
  Version: '1.84.0-test',
  BackendState: 'Running',
  TailscaleIPs: ['100.101.102.103', 'fd7a:115c:a1e0::1'],
  Self: { ID: 'nSELF', HostName: 'box', DNSName: 'box.tail1234.ts.net.', OS: 'linux', UserID: 1, TailscaleIPs: ['100.101.102.103'], Online: true },
  MagicDNSSuffix: 'tail1234.ts.net',
  CurrentTailnet: { Name: 'alice@example.com', MagicDNSSuffix: 'tail1234.ts.net', MagicDNSEnabled: true },
  Health: [],
  User: { '1': { ID: 1, LoginName: 'alice@example.com', DisplayName: 'Alice' } },
};

function etagOf(config: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex');
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(`${body}\n`);
}

function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(value, null, '\t'));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function ipOf(addr: string): string | null {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(addr) || /^[0-9a-f:]+$/i.test(addr)) return addr;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(addr);
  if (v4) return v4[1] ?? null;
  const v6 = /^\[([0-9a-f:]+)\]:\d{1,5}$/i.exec(addr);
  return v6 ? (v6[1] ?? null) : null;
}

export async function startTailscaleLocalApiServer(opts: TailscaleLocalApiServerOptions): Promise<TailscaleLocalApiServer> {
  if ((opts.socketPath === undefined) === (opts.token === undefined)) throw new Error('give exactly one of socketPath or token');
  let status: Record<string, unknown> = structuredClone(opts.status ?? RUNNING_STATUS);
  const peers = new Map<string, { Node: Record<string, unknown>; UserProfile: Record<string, unknown> }>();
  let serveConfig: Record<string, unknown> = {};
  const failures = new Map<string, { status: number; text: string }>();
  const requests: LocalApiRecordedRequest[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local-tailscaled.sock');
    const ifMatch = req.headers['if-match'];
    requests.push({ method: req.method ?? 'GET', path: url.pathname, host: req.headers.host, ifMatch: typeof ifMatch === 'string' ? ifMatch : undefined });
    const host = req.headers.host ?? '';
    const hostOk = host === '' || host === 'local-tailscaled.sock' || (opts.token !== undefined && /^(localhost|127\.0\.0\.1):\d+$/.test(host));
    if (req.headers.referer !== undefined || req.headers.origin !== undefined || !hostOk) return text(res, 403, 'invalid localapi request');
    if (opts.token !== undefined) {
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Basic ')) return text(res, 401, 'auth required');
      const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
      if (decoded.slice(decoded.indexOf(':') + 1) !== opts.token) return text(res, 403, 'bad password');
    }
    const fail = failures.get(url.pathname);
    if (fail) {
      failures.delete(url.pathname);
      return text(res, fail.status, fail.text);
    }
    switch (url.pathname) {
      case '/':
        return text(res, 200, 'tailscaled');
      case '/localapi/v0/status':
        if (req.method !== 'GET') return text(res, 405, 'want GET');
        return json(res, 200, status);
      case '/localapi/v0/whois': {
        const addr = url.searchParams.get('addr') ?? '';
        if (addr === '') return text(res, 400, "missing 'addr' parameter");
        const ip = ipOf(addr);
        if (ip === null) return text(res, 400, "invalid 'addr' parameter");
        const who = peers.get(ip);
        if (!who) return text(res, 404, 'no match for IP:port');
        return json(res, 200, who);
      }
      case '/localapi/v0/serve-config': {
        if (req.method === 'GET') return json(res, 200, serveConfig, { Etag: etagOf(serveConfig) });
        if (req.method !== 'POST') return text(res, 405, 'method not allowed');
        let incoming: unknown;
        try {
          incoming = JSON.parse(await readBody(req));
        } catch (err) {
          return json(res, 500, { error: `decoding config: ${err instanceof Error ? err.message : String(err)}` });
        }
        if (incoming === null || typeof incoming !== 'object' || Array.isArray(incoming)) return json(res, 500, { error: 'decoding config: not an object' });
        const match = req.headers['if-match'];
        if (typeof match === 'string' && match !== '' && match !== etagOf(serveConfig)) return text(res, 412, 'etag mismatch');
        serveConfig = incoming as Record<string, unknown>;
        res.writeHead(200);
        res.end();
        return;
      }
      default:
        return text(res, 404, '404 page not found');
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) text(res, 500, err instanceof Error ? err.message : String(err));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (opts.socketPath !== undefined) server.listen(opts.socketPath, () => resolve());
    else server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = opts.token !== undefined ? (server.address() as AddressInfo).port : undefined;

  return {
    socketPath: opts.socketPath,
    port,
    requests,
    setStatus(next) {
      status = structuredClone(next);
    },
    addPeer(ip, whois) {
      peers.set(ip, structuredClone(whois));
    },
    get serveConfig() {
      return structuredClone(serveConfig);
    },
    replaceServeConfig(config) {
      serveConfig = structuredClone(config);
    },
    failNext(path, code, body) {
      failures.set(path, { status: code, text: body });
    },
    close() {
      return new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
