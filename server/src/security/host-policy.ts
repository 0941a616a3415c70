/**
 * Which `Host` header values a server answers (DNS rebinding): a page on an
 * attacker's name that resolves to 127.0.0.1 reaches a loopback server with
 * the attacker's name in `Host`, so only the server's own names pass:
 *   - `localhost`, `127.0.0.1`, `[::1]` and the bound host, with the port it listens on;
 *   - when bound to a wildcard address (0.0.0.0, ::), any IP literal (an IP
 *     cannot be rebound);
 *   - the hosts of the allowed origins (--allow-origin), with their port;
 *   - with Tailscale, MagicDNS names under `.ts.net` (Tailscale Serve keeps the
 *     browser's Host; no one else can point a ts.net name elsewhere);
 *   - names given with --allow-host (`NAME` for any port, `NAME:PORT`).
 * A request without a Host header (HTTP/1.0 tools) is allowed: browsers always send one.
 */
import { isIP } from 'node:net';
import { AppError } from '@autoclaw/shared';

export interface HostPolicy {
  isAllowed(host: string | undefined): boolean;
  /** What is allowed now, for messages. */
  describe(): string;
  /** The FORBIDDEN error for a Host this server does not answer to; null when it does. */
  refusal(host: string | undefined): AppError | null;
}

export interface HostPolicyOptions {
  /** The address the server is bound to. */
  host: string;
  /** The port it listens on (0 until it listens). */
  port: () => number;
  /** Origins allowed to call it; their hosts are allowed too. */
  allowOrigins?: readonly string[];
  /** `NAME` or `NAME:PORT` (IPv6 in brackets). */
  allowHosts?: readonly string[];
  /** Accept MagicDNS names (`*.ts.net`). */
  tailnet?: boolean;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

interface ParsedHost {
  name: string;
  /** null when the header named none. */
  port: number | null;
}

/** `name[:port]` with the name lower-cased and without a trailing dot; IPv6 stays bracketed. Null when malformed. */
export function parseHostHeader(value: string): ParsedHost | null {
  const v = value.trim().toLowerCase();
  let name: string;
  let rest: string;
  if (v.startsWith('[')) {
    const end = v.indexOf(']');
    if (end < 0) return null;
    name = v.slice(0, end + 1);
    rest = v.slice(end + 1);
  } else {
    const colon = v.indexOf(':');
    if (colon !== v.lastIndexOf(':')) return null; // an unbracketed IPv6 address is not a Host
    name = colon < 0 ? v : v.slice(0, colon);
    rest = colon < 0 ? '' : v.slice(colon);
  }
  name = name.replace(/\.$/, '');
  if (name === '' || !/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/.test(name)) return null;
  if (rest === '') return { name, port: null };
  if (!/^:\d{1,5}$/.test(rest)) return null;
  const port = Number(rest.slice(1));
  return port > 65_535 ? null : { name, port };
}

function bracketed(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function isIpLiteral(name: string): boolean {
  return isIP(name.replace(/^\[(.*)\]$/, '$1')) !== 0;
}

/** Allowed `name` → the ports it may come with (null: any port). */
type Rules = Map<string, Set<number> | null>;

function add(rules: Rules, name: string, port: number | null): void {
  if (port === null) {
    rules.set(name, null);
    return;
  }
  const ports = rules.get(name);
  if (ports === null) return;
  rules.set(name, new Set([...(ports ?? []), port]));
}

export function createHostPolicy(opts: HostPolicyOptions): HostPolicy {
  const wildcard = WILDCARDS.has(opts.host);
  const fixed: Rules = new Map();
  for (const origin of opts.allowOrigins ?? []) {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      continue;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') continue; // app:// and the like never send a Host
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    add(fixed, url.hostname.toLowerCase(), port);
  }
  for (const entry of opts.allowHosts ?? []) {
    const parsed = parseHostHeader(entry);
    if (parsed) add(fixed, parsed.name, parsed.port);
  }

  function allowedWith(name: string, port: number | null): boolean {
    const listening = opts.port();
    // No port in Host means the scheme's default; the server listens on exactly one.
    const effective = port ?? 80;
    const own = [...LOOPBACK_NAMES, ...(wildcard ? [] : [bracketed(opts.host.toLowerCase())])];
    if (own.includes(name) && effective === listening) return true;
    if (wildcard && isIpLiteral(name)) return true;
    if (opts.tailnet && name.endsWith('.ts.net')) return true;
    const rule = fixed.get(name);
    if (rule === undefined) return false;
    if (rule === null) return true;
    return port === null ? rule.has(80) || rule.has(443) : rule.has(port);
  }

  function isAllowed(host: string | undefined): boolean {
    if (host === undefined) return true;
    const parsed = parseHostHeader(host);
    return parsed !== null && allowedWith(parsed.name, parsed.port);
  }

  function describe(): string {
    const port = opts.port();
    const names = [...LOOPBACK_NAMES, ...(wildcard ? ['any IP address'] : [bracketed(opts.host)])].map((n) => `${n}:${port}`);
    for (const [name, ports] of fixed) names.push(ports === null ? name : [...ports].map((p) => `${name}:${p}`).join(', '));
    if (opts.tailnet) names.push('*.ts.net');
    return [...new Set(names)].join(', ');
  }

  return {
    isAllowed,
    describe,
    refusal(host) {
      if (isAllowed(host)) return null;
      return new AppError(
        'FORBIDDEN',
        `this server does not answer to the host "${String(host).slice(0, 100)}" (a DNS rebinding attempt?); ` +
          `it answers to ${describe()}; start it with --allow-host NAME to add a name`,
      );
    },
  };
}

/** The policy of a server from its parsed config (gateway or manager): with Tailscale configured, ts.net names too. */
export function hostPolicyOf(
  config: { host: string; allowOrigins: readonly string[]; allowHosts?: readonly string[]; tailscale?: unknown },
  port: () => number,
): HostPolicy {
  return createHostPolicy({
    host: config.host,
    port,
    allowOrigins: config.allowOrigins,
    allowHosts: config.allowHosts ?? [],
    tailnet: config.tailscale !== undefined,
  });
}
