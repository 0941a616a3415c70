/**
 * The only way a skill reaches the network: HTTP(S) requests the gateway
 * makes for it after checking the URL against the skill's host policy,
 * resolving the name itself and checking every address (a declared name
 * that resolves to a private address is refused too), then connecting to
 * exactly the address it checked. Redirects are followed here, each hop
 * checked the same way; bodies and time are capped.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';
import { isNonPublicAddress } from './address';
import { normalizeHost, type HostPolicy } from './host-policy';

export interface EgressRequest {
  url: string;
  method: string;
  headers: Array<[string, string]>;
  body: Uint8Array | null;
  redirect: 'follow' | 'manual' | 'error';
}

export interface EgressResponse {
  url: string;
  status: number;
  statusText: string;
  headers: Array<[string, string]>;
  body: Uint8Array;
  redirected: boolean;
}

/** A request the policy refused; the message says which host and why. */
export class EgressRefused extends Error {
  override readonly name = 'EgressRefused';
}

export interface EgressOptions {
  signal: AbortSignal;
  /** Largest response body (default 10 MiB). */
  maxBytes?: number;
  /** Whole request, redirects included (default 30 s). */
  timeoutMs?: number;
  /** Name resolution (tests may pin names); default the system resolver, all addresses. */
  resolve?: (host: string) => Promise<string[]>;
}

const MAX_REDIRECTS = 5;
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);
const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;

async function systemResolve(host: string): Promise<string[]> {
  const found = await dnsLookup(host, { all: true, verbatim: true });
  return found.map((a) => a.address);
}

/**
 * The address to connect to for `host` (checked), or a refusal. A name must
 * resolve only to addresses the policy allows: one private address among
 * public ones is enough to refuse (no choosing the safe one to rebind later).
 */
export async function checkedAddress(
  policy: HostPolicy,
  host: string,
  port: number,
  resolve: (host: string) => Promise<string[]> = systemResolve,
): Promise<{ address: string; family: 4 | 6 }> {
  const decision = policy.check(host, port);
  if (!decision.ok) throw new EgressRefused(decision.reason);
  const bare = normalizeHost(host);
  let addresses: string[];
  if (isIP(bare) !== 0) addresses = [bare];
  else {
    try {
      addresses = await resolve(bare);
    } catch {
      throw new Error(`${bare} could not be resolved`);
    }
  }
  if (addresses.length === 0) throw new Error(`${bare} could not be resolved`);
  if (!decision.allowNonPublic) {
    const inner = addresses.find(isNonPublicAddress);
    if (inner !== undefined) throw new EgressRefused(`${bare} resolves to ${inner}, a non-public address this skill did not declare`);
  }
  const address = addresses[0]!;
  return { address, family: isIP(address) === 6 ? 6 : 4 };
}

function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return (_host, options, callback) => {
    if ((options as { all?: boolean }).all) callback(null, [{ address, family }] as never, family);
    else callback(null, address, family);
  };
}

function once(
  url: URL,
  req: { method: string; headers: Array<[string, string]>; body: Uint8Array | null },
  pin: { address: string; family: 4 | 6 },
  opts: { signal: AbortSignal; maxBytes: number },
): Promise<{ res: IncomingMessage; body: Buffer }> {
  const headers: Record<string, string> = {};
  for (const [name, value] of req.headers) {
    const lower = name.toLowerCase();
    if (!HOP_HEADERS.has(lower)) headers[lower] = headers[lower] === undefined ? value : `${headers[lower]}, ${value}`;
  }
  if (req.body) headers['content-length'] = String(req.body.byteLength);
  const make = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = make(
      url,
      { method: req.method, headers, lookup: pinnedLookup(pin.address, pin.family), signal: opts.signal, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > opts.maxBytes) {
            res.destroy();
            reject(new Error(`the response is larger than ${opts.maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(req.body ? Buffer.from(req.body) : undefined);
  });
}

const DECODERS: Record<string, (data: Buffer, opts: { maxOutputLength: number }) => Promise<Buffer>> = {
  gzip: promisify(gunzip),
  'x-gzip': promisify(gunzip),
  deflate: promisify(inflate),
  br: promisify(brotliDecompress),
};

/** The response's headers, and its body decoded (skills get plain bytes, as fetch would give them). */
async function decoded(res: IncomingMessage, body: Buffer, maxBytes: number): Promise<{ headers: Array<[string, string]>; body: Buffer }> {
  const encoding = String(res.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decode = DECODERS[encoding];
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
    const name = res.rawHeaders[i]!.toLowerCase();
    if (name === 'transfer-encoding' || name === 'connection' || name === 'keep-alive') continue;
    if (decode && (name === 'content-encoding' || name === 'content-length')) continue;
    out.push([name, res.rawHeaders[i + 1]!]);
  }
  if (!decode || body.length === 0) return { headers: out, body };
  try {
    return { headers: out, body: await decode(body, { maxOutputLength: maxBytes }) };
  } catch {
    throw new Error(`the response could not be decoded (${encoding}), or is larger than ${maxBytes} bytes`);
  }
}

export async function egressFetch(policy: HostPolicy, request: EgressRequest, opts: EgressOptions): Promise<EgressResponse> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const signal = AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs ?? 30_000)]);
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    throw new EgressRefused(`not a URL: ${request.url.slice(0, 200)}`);
  }
  let method = request.method.toUpperCase();
  let body = request.body;
  let headers = request.headers;
  for (let hop = 0; ; hop++) {
    const decision = policy.checkUrl(url);
    if (!decision.ok) throw new EgressRefused(hop === 0 ? decision.reason : `redirect to ${url.host} refused: ${decision.reason}`);
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    let pin;
    try {
      pin = await checkedAddress(policy, url.hostname, port, opts.resolve);
    } catch (err) {
      if (hop > 0 && err instanceof EgressRefused) throw new EgressRefused(`redirect to ${url.host} refused: ${err.message}`);
      throw err;
    }
    const { res, body: data } = await once(url, { method, headers, body }, pin, { signal, maxBytes });
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (status >= 300 && status < 400 && location && request.redirect !== 'manual') {
      if (request.redirect === 'error') throw new Error(`redirected to ${location} (redirect: "error")`);
      if (hop >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
      const next = new URL(location, url);
      if (next.origin !== url.origin) headers = headers.filter(([name]) => !['authorization', 'cookie'].includes(name.toLowerCase()));
      if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        body = null;
        headers = headers.filter(([name]) => !name.toLowerCase().startsWith('content-'));
      }
      url = next;
      continue;
    }
    const plain = await decoded(res, data, maxBytes);
    return { url: url.href, status, statusText: res.statusMessage ?? '', headers: plain.headers, body: plain.body, redirected: hop > 0 };
  }
}
