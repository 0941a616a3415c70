/**
 * Which hosts a skill may reach, from its manifest: `name`, `name:port`,
 * `*.domain`, `*` (any public host), or `setting:NAME` (the host of that
 * setting, which the owner chose). Entries without a port allow the
 * standard ports (80, 443); a host setting without a port, any port. Only an entry that names an address itself (an
 * IP literal, `localhost`, or a setting) may lead to a non-public address.
 */
import { isIP } from 'node:net';

interface HostRule {
  /** Lower-case host, without brackets; `*` any; `.domain` for subdomains. */
  host: string;
  /** null: the standard ports; 'any': a device the owner named by its address alone (a Sonos speaker listens on 1400). */
  port: number | null | 'any';
  allowNonPublic: boolean;
}

export type HostDecision = { ok: true; allowNonPublic: boolean } | { ok: false; reason: string };

const STANDARD_PORTS = new Set([80, 443]);

export function normalizeHost(host: string): string {
  return host.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
}

function namesAnAddress(host: string): boolean {
  return isIP(host) !== 0 || host === 'localhost';
}

/** host[:port] or [v6][:port] → its parts; null when it is not one. */
export function splitHostPort(text: string): { host: string; port: number | null } | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(text.trim());
  if (!m) return null;
  const port = m[2] === undefined ? null : Number(m[2]);
  if (port !== null && (port < 1 || port > 65_535)) return null;
  return { host: normalizeHost(m[1]!), port };
}

function ruleOfSetting(value: string, kind: 'url' | 'host' | 'text'): HostRule | null {
  if (kind === 'url') {
    try {
      const url = new URL(value);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
      const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
      return { host: normalizeHost(url.hostname), port, allowNonPublic: true };
    } catch {
      return null;
    }
  }
  if (kind === 'host') {
    const parts = splitHostPort(value);
    return parts ? { host: parts.host, port: parts.port ?? 'any', allowNonPublic: true } : null;
  }
  return null;
}

export interface PolicySetting {
  kind: 'url' | 'host' | 'text';
  value: string | null;
}

export class HostPolicy {
  readonly #rules: HostRule[];

  constructor(entries: readonly string[], settings: (name: string) => PolicySetting | undefined = () => undefined) {
    this.#rules = [];
    for (const entry of entries) {
      if (entry === '*') {
        this.#rules.push({ host: '*', port: null, allowNonPublic: false });
      } else if (entry.startsWith('setting:')) {
        const setting = settings(entry.slice('setting:'.length));
        const rule = setting?.value ? ruleOfSetting(setting.value, setting.kind) : null;
        if (rule) this.#rules.push(rule);
      } else if (entry.startsWith('*.')) {
        this.#rules.push({ host: normalizeHost(entry.slice(1)), port: null, allowNonPublic: false });
      } else {
        const parts = splitHostPort(entry);
        if (parts) this.#rules.push({ host: parts.host, port: parts.port, allowNonPublic: namesAnAddress(parts.host) });
      }
    }
  }

  /** May a connection to `host`:`port` be made (before any address is resolved)? */
  check(rawHost: string, port: number): HostDecision {
    const host = normalizeHost(rawHost);
    for (const rule of this.#rules) {
      const portOk = rule.port === 'any' || (rule.port === null ? STANDARD_PORTS.has(port) : rule.port === port);
      if (!portOk) continue;
      if (rule.host === '*') {
        // `*` is for names on the public internet; an address must be declared by itself.
        if (namesAnAddress(host)) continue;
        return { ok: true, allowNonPublic: false };
      }
      if (rule.host.startsWith('.') ? host.endsWith(rule.host) : host === rule.host) return { ok: true, allowNonPublic: rule.allowNonPublic };
    }
    return { ok: false, reason: `${host.includes(':') ? `[${host}]` : host}:${port} is not a host this skill declared` };
  }

  /** Checks a URL: http(s) only, then its host and port. */
  checkUrl(url: URL): HostDecision {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: `${url.protocol} URLs are not allowed (only http and https)` };
    if (url.username || url.password) return { ok: false, reason: 'URLs with credentials are not allowed' };
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    return this.check(url.hostname, port);
  }
}
