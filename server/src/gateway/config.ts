/**
 * The gateway's configuration, parsed once at start from argv and the
 * environment. This is the only module that reads `process.env`.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import type { SettingKey } from '@autoclaw/shared';
import { isInside, parseHostHeader, parsePublicKey, validateSettingValue } from '../security';
import type { EnvSettings } from '../security';

export type { EnvSettings };

export const DEFAULT_PORT = 18789;
export const DEFAULT_HOST = '127.0.0.1';

import { parseFlags } from './flags';
import { UsageError } from './usage-error';

export { UsageError };

export interface GatewayConfig {
  /** Absolute path of the data directory. */
  dataDir: string;
  /** 0 picks a free port. */
  port: number;
  host: string;
  /** Extra origins allowed to open the WebSocket and call /auth/*, normalized. */
  allowOrigins: string[];
  /** Extra names the gateway answers to in the Host header (`NAME` or `NAME:PORT`), lower-cased. */
  allowHosts?: string[];
  env: EnvSettings;
  /** Managed instances: the id the manager knows it by (reported by /healthz). */
  instanceId?: string;
  /** Managed instances: read the 32-byte data key from this inherited fd instead of DIR/data.key. */
  dataKeyFd?: number;
  /** Managed instances: read the 32-byte data key from this file (never inside the data directory; Kubernetes mounts a Secret). */
  dataKeyFile?: string;
  /** Managed instances: base64url raw Ed25519 public key of the manager (verifies pairing tickets). */
  managerKey?: string;
  /**
   * Requests that arrive through Tailscale Serve must come from this tailnet
   * login (checked with whois through the LocalAPI), on top of device auth.
   */
  tailscale?: GatewayTailscaleConfig;
  /** Where the skills are (`--skills DIR`); default: the bundled skills/ folder. */
  skillsDir?: string;
  /** Extra public keys whose vetting signatures are trusted (`--skills-pubkey KEY`, repeatable). */
  skillsPubkeys?: string[];
  /** Chromium for the browser skill (AUTOCLAW_CHROMIUM); default: found on this machine. */
  chromiumPath?: string;
  /** AUTOCLAW_METRICS_TOKEN: a bearer token that may read /metrics from anywhere (else direct loopback only). */
  metricsToken?: string;
}

export interface GatewayTailscaleConfig {
  /** The instance owner's tailnet login, lower-cased. */
  ownerLogin: string;
  /** tailscaled's LocalAPI socket (`--tailscale-socket` or AUTOCLAW_TAILSCALE_SOCKET); default: this platform's. */
  socketPath?: string;
}

const ENV_KEYS: ReadonlyArray<[string, SettingKey]> = [
  ['AUTOCLAW_MODEL', 'model'],
  ['ANTHROPIC_API_KEY', 'anthropic.apiKey'],
  ['ANTHROPIC_BASE_URL', 'anthropic.baseUrl'],
  ['OPENAI_API_KEY', 'openai.apiKey'],
  ['OPENAI_BASE_URL', 'openai.baseUrl'],
  ['AUTOCLAW_OPENAI_COMPATIBLE_URL', 'openaiCompatible.url'],
  ['AUTOCLAW_OPENAI_COMPATIBLE_API_KEY', 'openaiCompatible.apiKey'],
];

/** The environment variable that sets a setting, for messages. */
export function envNameOf(key: SettingKey): string | undefined {
  return ENV_KEYS.find(([, k]) => k === key)?.[0];
}

/** Settings from the environment (empty variables count as unset). */
export function parseEnv(env: NodeJS.ProcessEnv = process.env): EnvSettings {
  const out: EnvSettings = {};
  for (const [name, key] of ENV_KEYS) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    try {
      out[key] = validateSettingValue(key, raw);
    } catch (err) {
      throw new UsageError(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return out;
}

/** `--allow-host NAME[:PORT]`: a name the server answers to in the Host header. */
export function parseAllowHost(value: string): string {
  const parsed = parseHostHeader(value);
  if (!parsed) throw new UsageError(`--allow-host: "${value.slice(0, 80)}" is not a host name like chat.example.org or chat.example.org:8443`);
  return parsed.port === null ? parsed.name : `${parsed.name}:${parsed.port}`;
}

export function normalizeOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--allow-origin: "${value.slice(0, 80)}" is not an origin like https://example.com`);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username) {
    throw new UsageError(`--allow-origin: "${value.slice(0, 80)}" must be an origin (scheme://host[:port]) without a path`);
  }
  return url.origin !== 'null' ? url.origin : `${url.protocol}//${url.host}`;
}

// Built when a gateway's flags are parsed, not at import: commands that only
// share this file's small helpers (the CLI's `chat`) then never load zod.
const hostSchema = () =>
  z
  .string()
  .min(1)
  .max(253)
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]+|[A-Za-z0-9.-]+)$/, 'must be a host name or an IP address');

/** Resolves and checks the data directory flag. */
export function parseDataDir(value: string | undefined): string {
  if (value === undefined || value.trim() === '') throw new UsageError('--data DIR is required');
  return resolve(value);
}

export function parsePort(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PORT;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535) throw new UsageError(`--port must be 0–65535 (got "${value.slice(0, 20)}")`);
  return Number(value);
}

/** `autoclaw gateway` flags plus the environment. */
export function parseGatewayConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const { values } = parseFlags(argv, {
    data: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    'allow-origin': { type: 'string', multiple: true },
    'allow-host': { type: 'string', multiple: true },
    'instance-id': { type: 'string' },
    'data-key-fd': { type: 'string' },
    'data-key-file': { type: 'string' },
    'manager-key': { type: 'string' },
    'tailscale-owner': { type: 'string' },
    'tailscale-socket': { type: 'string' },
    skills: { type: 'string' },
    'skills-pubkey': { type: 'string', multiple: true },
  }) as { values: {
    data?: string;
    port?: string;
    host?: string;
    'allow-origin'?: string[];
    'allow-host'?: string[];
    'instance-id'?: string;
    'data-key-fd'?: string;
    'data-key-file'?: string;
    'manager-key'?: string;
    'tailscale-owner'?: string;
    'tailscale-socket'?: string;
    skills?: string;
    'skills-pubkey'?: string[];
  } };
  const host = hostSchema().safeParse(values.host ?? DEFAULT_HOST);
  if (!host.success) throw new UsageError(`--host ${host.error.issues[0]?.message ?? 'is invalid'}`);
  const config: GatewayConfig = {
    dataDir: parseDataDir(values.data),
    port: parsePort(values.port),
    host: host.data.replace(/^\[(.*)\]$/, '$1'),
    allowOrigins: (values['allow-origin'] ?? []).map(normalizeOrigin),
    env: parseEnv(env),
  };
  if (values['allow-host'] !== undefined) config.allowHosts = values['allow-host'].map(parseAllowHost);
  if (values['skills-pubkey'] !== undefined) config.skillsPubkeys = values['skills-pubkey'].map(parseSkillsPubkey);
  const chromium = env['AUTOCLAW_CHROMIUM'];
  if (chromium !== undefined && chromium.trim() !== '') config.chromiumPath = resolve(chromium);
  const metricsToken = metricsTokenOf(env);
  if (metricsToken !== undefined) config.metricsToken = metricsToken;
  if (values.skills !== undefined) {
    if (values.skills.trim() === '') throw new UsageError('--skills needs a folder');
    config.skillsDir = resolve(values.skills);
  }
  if (values['instance-id'] !== undefined) config.instanceId = parseInstanceId(values['instance-id']);
  if (values['data-key-fd'] !== undefined) config.dataKeyFd = parseFd(values['data-key-fd']);
  if (values['data-key-file'] !== undefined) {
    if (config.dataKeyFd !== undefined) throw new UsageError('--data-key-fd and --data-key-file are two ways to give the data key: use one');
    config.dataKeyFile = parseDataKeyFile(values['data-key-file'], config.dataDir);
  }
  if (values['manager-key'] !== undefined) config.managerKey = parseManagerKey(values['manager-key']);
  const tailscale = parseTailscale(values['tailscale-owner'], values['tailscale-socket'], env['AUTOCLAW_TAILSCALE_SOCKET']);
  if (tailscale) config.tailscale = tailscale;
  return config;
}

/** AUTOCLAW_METRICS_TOKEN, when set: long enough not to be guessed. */
export function metricsTokenOf(env: NodeJS.ProcessEnv): string | undefined {
  const token = env['AUTOCLAW_METRICS_TOKEN']?.trim();
  if (token === undefined || token === '') return undefined;
  if (token.length < 16 || /\s/.test(token)) throw new UsageError('AUTOCLAW_METRICS_TOKEN must be at least 16 characters with no spaces');
  return token;
}

function parseDataKeyFile(value: string, dataDir: string): string {
  if (value.trim() === '') throw new UsageError('--data-key-file needs a path');
  const path = resolve(value);
  if (isInside(dataDir, path)) throw new UsageError('--data-key-file must not be inside the data directory (keep the key apart from the data it protects)');
  return path;
}

/** Tailnet logins look like e-mail addresses (`alice@example.com`, `alice@github`). */
const LOGIN = /^[^\s@]{1,64}@[^\s@]{1,190}$/;

/**
 * `--tailscale-owner LOGIN` turns the Serve identity check on; the socket
 * comes from `--tailscale-socket` or AUTOCLAW_TAILSCALE_SOCKET (set by the
 * Kubernetes driver next to its sidecar). A socket without an owner is a
 * usage error as a flag, and ignored from the environment.
 */
function parseTailscale(owner: string | undefined, socketFlag: string | undefined, socketEnv: string | undefined): GatewayTailscaleConfig | undefined {
  if (owner === undefined) {
    if (socketFlag !== undefined) throw new UsageError('--tailscale-socket needs --tailscale-owner LOGIN (whose requests through Tailscale Serve are accepted)');
    return undefined;
  }
  const login = owner.trim().toLowerCase();
  if (!LOGIN.test(login)) throw new UsageError('--tailscale-owner must be a tailnet login like alice@example.com');
  const socket = socketFlag ?? (socketEnv !== undefined && socketEnv.trim() !== '' ? socketEnv : undefined);
  if (socket !== undefined && socket.trim() === '') throw new UsageError('--tailscale-socket needs a path');
  return { ownerLogin: login, ...(socket === undefined ? {} : { socketPath: socket }) };
}

export function parseInstanceId(value: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(value)) throw new UsageError('--instance-id must be 1–64 characters of A–Z, a–z, 0–9, _ and -');
  return value;
}

/** Only inherited descriptors: 0–2 are stdio. */
function parseFd(value: string): number {
  if (!/^\d{1,4}$/.test(value) || Number(value) < 3) throw new UsageError(`--data-key-fd must be a file descriptor number ≥ 3 (got "${value.slice(0, 20)}")`);
  return Number(value);
}

/** A vetting public key: base64url of the raw 32-byte Ed25519 key (what `skills vet` prints). */
export function parseSkillsPubkey(value: string): string {
  if (!parsePublicKey(value)) throw new UsageError('--skills-pubkey must be a base64url raw Ed25519 public key (43 characters, as "autoclaw skills vet" prints it)');
  return value;
}

function parseManagerKey(value: string): string {
  if (!parsePublicKey(value)) throw new UsageError('--manager-key must be a base64url raw Ed25519 public key (43 characters)');
  return value;
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
