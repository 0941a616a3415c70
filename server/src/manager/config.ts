/**
 * The manager's configuration, parsed once at start from argv and the
 * environment (the only place the manager reads `process.env`).
 */
import { delimiter, resolve } from 'node:path';
import { z } from 'zod';
import { SIGNUP_MODES } from '@autoclaw/shared';
import type { SignupMode } from '@autoclaw/shared';
import { metricsTokenOf, parseDataDir, parseFlags, UsageError } from '../gateway';
import type { CreditSettings, StripeSettings } from './billing';
import type { DatabaseTarget } from './db';
import { normalizeOrigin, parseAllowHost } from './gateway-parts';
import { managerDbPath } from './paths';
import { tailscaleConfig } from './config-tailscale';
export { DEFAULT_TAILSCALE_TAG } from './config-tailscale';
export type { ManagerTailscaleConfig, TailscaleCredentials } from './config-tailscale';
import type { ManagerTailscaleConfig } from './config-tailscale';
import { envValue } from './env-value';

export const DEFAULT_MANAGER_PORT = 18780;
export const DEFAULT_MANAGER_HOST = '127.0.0.1';
/**
 * The desktop app's renderer origin (desktop/src/main/app-protocol.ts
 * APP_ORIGIN): always allowed, since no web page can have it.
 */
export const DESKTOP_APP_ORIGIN = 'app://autoclaw';
export const DRIVER_KINDS = ['local', 'kubernetes'] as const;
export type DriverKind = (typeof DRIVER_KINDS)[number];
/** Where the master key lives: the OS keychain when there is one (auto), or a 0600 file. */
export const MASTER_KEY_STORES = ['auto', 'keychain', 'file'] as const;
export type MasterKeyStore = (typeof MASTER_KEY_STORES)[number];

/**
 * `--kube-*` flags, as given. The Kubernetes driver validates and
 * interprets them (kubeconfig path or in-cluster, namespace, image, storage
 * class, resource limits).
 */
export interface KubernetesFlags {
  config?: string;
  inCluster?: boolean;
  namespace?: string;
  image?: string;
  storageClass?: string;
  storageSize?: string;
  cpu?: string;
  memory?: string;
}

export interface ManagerConfig {
  /** Billing through Stripe (STRIPE_API_KEY, STRIPE_WEBHOOK_SECRET); absent: billing off. */
  stripe?: StripeSettings;
  /** Pooled credits: the margin on AI costs and the monthly reset (AUTOCLAW_CREDIT_MARGIN_PERCENT, AUTOCLAW_CREDIT_MONTHLY_RESET). */
  credits?: CreditSettings;
  /** Absolute path of the data directory. */
  dataDir: string;
  /** 0 picks a free port. */
  port: number;
  host: string;
  driver: DriverKind;
  signup: SignupMode;
  /** Absolute paths of the PEM certificate and key; null for plain HTTP. */
  tls: { certPath: string; keyPath: string } | null;
  /** Extra browser origins allowed to call the manager (the desktop app's scheme is added by its part). */
  allowOrigins: string[];
  /** Extra names the manager answers to in the Host header (`--allow-host NAME[:PORT]`). */
  allowHosts?: string[];
  masterKeyStore: MasterKeyStore;
  /**
   * Where the manager's state lives: DIR/manager.db (SQLite, the default; one
   * manager per data directory), or PostgreSQL from --database or
   * AUTOCLAW_DATABASE_URL (several replicas may share it).
   */
  database: DatabaseTarget;
  /** Present only with --driver kubernetes or any --kube-* flag. */
  kubernetes?: KubernetesFlags;
  /** Present only with --tailscale. */
  tailscale?: ManagerTailscaleConfig;
  /**
   * Non-secret provider settings from the manager's environment (endpoints,
   * model), handed to the instances it starts. API keys are never passed
   * this way: each user enters theirs in Settings, where the instance keeps
   * it encrypted under its own data key.
   */
  providerEnv: Record<string, string>;
  /** AUTOCLAW_METRICS_TOKEN: a bearer token that may read /metrics from anywhere (else direct loopback only). */
  metricsToken?: string;
  /** AUTOCLAW_MANAGER_SIGNING_KEY: the Ed25519 signing key (PEM) every replica shares (e.g. from a Kubernetes Secret); else DIR/manager.key. */
  signingKeyPem?: string;
  /** Release public keys trusted besides the built-in one (`--release-pubkey K`, repeatable). */
  releaseKeys?: string[];
  /** How long an update watches the new version's health (AUTOCLAW_UPDATE_HEALTH_WINDOW_MS; default 60 s). */
  updateHealthWindowMs?: number;
  /** `--sleep-after MINUTES` or AUTOCLAW_SLEEP_AFTER_MINUTES: an idle instance sleeps after this long (0: never; default 15 minutes). */
  sleepAfterMs?: number;
  /** `--provision-asleep`: a new instance is provisioned `sleeping` (storage and keys made); its first client wakes it. */
  provisionAsleep?: boolean;
  /** `--warm-standbys N` (default 1; 0: off): local driver gateways kept started and waiting, so a wake skips Node's start-up. */
  warmStandbys?: number;
  /** Backups to S3-compatible storage (AUTOCLAW_BACKUP_S3_*); sealed into the manager's state at start. */
  backupS3?: BackupS3Config;
}

/**
 * AUTOCLAW_BACKUP_S3_ENDPOINT, _BUCKET, _REGION (default us-east-1), and the
 * credentials AUTOCLAW_BACKUP_S3_ACCESS_KEY_ID + _SECRET_ACCESS_KEY — given
 * once: the manager keeps them encrypted under its master key.
 */
export interface BackupS3Config {
  endpoint: string;
  bucket: string;
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** The gateway's non-secret provider variables (see `autoclaw gateway --help`). */
export const PROVIDER_ENV_NAMES = ['ANTHROPIC_BASE_URL', 'OPENAI_BASE_URL', 'AUTOCLAW_MODEL', 'AUTOCLAW_OPENAI_COMPATIBLE_URL'] as const;

const HostSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]+|[A-Za-z0-9.-]+)$/, 'must be a host name or an IP address');

const OPTIONS = {
  data: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  driver: { type: 'string' },
  signup: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'allow-origin': { type: 'string', multiple: true },
  'allow-host': { type: 'string', multiple: true },
  'release-pubkey': { type: 'string', multiple: true },
  database: { type: 'string' },
  'kube-config': { type: 'string' },
  'kube-in-cluster': { type: 'boolean' },
  'kube-namespace': { type: 'string' },
  'kube-image': { type: 'string' },
  'kube-storage-class': { type: 'string' },
  'kube-storage-size': { type: 'string' },
  'kube-cpu': { type: 'string' },
  'kube-memory': { type: 'string' },
  tailscale: { type: 'boolean' },
  'tailscale-socket': { type: 'string' },
  'tailscale-tags': { type: 'string' },
  'tailscale-owner': { type: 'string' },
  'sleep-after': { type: 'string' },
  'provision-asleep': { type: 'boolean' },
  'warm-standbys': { type: 'string' },
} as const;

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${flag} must be one of ${allowed.join(', ')} (got "${value.slice(0, 40)}")`);
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return DEFAULT_MANAGER_PORT;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535) throw new UsageError(`--port must be 0–65535 (got "${value.slice(0, 20)}")`);
  return Number(value);
}

function kubernetesFlags(values: Record<string, string | boolean | string[] | undefined>): KubernetesFlags | undefined {
  const pick = (flag: string): string | undefined => {
    const v = values[flag];
    return typeof v === 'string' ? v : undefined;
  };
  const out: KubernetesFlags = {};
  const config = pick('kube-config');
  if (config !== undefined) out.config = resolve(config);
  if (values['kube-in-cluster'] === true) out.inCluster = true;
  const fields: Array<[keyof KubernetesFlags, string]> = [
    ['namespace', 'kube-namespace'],
    ['image', 'kube-image'],
    ['storageClass', 'kube-storage-class'],
    ['storageSize', 'kube-storage-size'],
    ['cpu', 'kube-cpu'],
    ['memory', 'kube-memory'],
  ];
  for (const [key, flag] of fields) {
    const v = pick(flag);
    if (v !== undefined) (out as Record<string, string>)[key] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** `autoclaw manager` flags plus the environment. */
export function parseManagerConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): ManagerConfig {
  const { values } = parseFlags(argv, OPTIONS) as { values: Record<string, string | boolean | string[] | undefined> };
  const str = (flag: string): string | undefined => (typeof values[flag] === 'string' ? (values[flag] as string) : undefined);
  const host = HostSchema.safeParse(str('host') ?? DEFAULT_MANAGER_HOST);
  if (!host.success) throw new UsageError(`--host ${host.error.issues[0]?.message ?? 'is invalid'}`);
  const cert = str('tls-cert');
  const key = str('tls-key');
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--tls-cert and --tls-key go together (give both, or neither for plain HTTP)');
  const driver = oneOf('--driver', str('driver'), DRIVER_KINDS, 'local');
  const kubernetes = kubernetesFlags(values);
  if (kubernetes && driver !== 'kubernetes') throw new UsageError('--kube-* flags need --driver kubernetes');
  const storeRaw = env['AUTOCLAW_MASTER_KEY_STORE'];
  const dataDir = parseDataDir(str('data'));
  const config: ManagerConfig = {
    dataDir,
    database: parseDatabase(str('database'), env, dataDir),
    port: parsePort(str('port')),
    host: host.data.replace(/^\[(.*)\]$/, '$1'),
    driver,
    signup: oneOf('--signup', str('signup'), SIGNUP_MODES, 'closed'),
    tls: cert !== undefined && key !== undefined ? { certPath: resolve(cert), keyPath: resolve(key) } : null,
    allowOrigins: ((values['allow-origin'] as string[] | undefined) ?? []).map(normalizeOrigin),
    masterKeyStore: oneOf('AUTOCLAW_MASTER_KEY_STORE', storeRaw === '' ? undefined : storeRaw, MASTER_KEY_STORES, 'auto'),
    providerEnv: providerEnvOf(env),
    ...healthWindowOf(env),
    ...backupS3Of(env),
  };
  const releaseKeys = values['release-pubkey'] as string[] | undefined;
  if (releaseKeys !== undefined) config.releaseKeys = releaseKeys.map(parseReleaseKey);
  const allowHosts = values['allow-host'] as string[] | undefined;
  if (allowHosts !== undefined) config.allowHosts = allowHosts.map(parseAllowHost);
  if (driver === 'kubernetes') {
    config.kubernetes = kubernetes ?? {};
    // Like kubectl: without --kube-config or --kube-in-cluster, the first file of $KUBECONFIG.
    const kubeconfigEnv = env['KUBECONFIG']?.split(delimiter).find((p) => p.trim() !== '');
    if (config.kubernetes.config === undefined && !config.kubernetes.inCluster && kubeconfigEnv !== undefined) config.kubernetes.config = resolve(kubeconfigEnv);
  }
  const tailscale = tailscaleConfig(values, driver, env);
  if (tailscale) config.tailscale = tailscale;
  const metricsToken = metricsTokenOf(env);
  if (metricsToken !== undefined) config.metricsToken = metricsToken;
  const signingKey = env['AUTOCLAW_MANAGER_SIGNING_KEY'];
  if (signingKey !== undefined && signingKey.trim() !== '') config.signingKeyPem = signingKey;
  const stripe = stripeConfig(env);
  if (stripe) config.stripe = stripe;
  const sleepAfter = sleepAfterOf(str('sleep-after'), env);
  if (sleepAfter !== undefined) config.sleepAfterMs = sleepAfter;
  if (values['provision-asleep'] === true) config.provisionAsleep = true;
  const standbys = str('warm-standbys') ?? '1';
  if (!/^\d{1,2}$/.test(standbys) || Number(standbys) > 16) throw new UsageError(`--warm-standbys is a number of standby gateways, 0–16 (got "${standbys.slice(0, 20)}")`);
  config.warmStandbys = Number(standbys);
  const credits = creditConfig(env);
  if (credits) config.credits = credits;
  return config;
}

export const SLEEP_AFTER_ENV = 'AUTOCLAW_SLEEP_AFTER_MINUTES';

/** --sleep-after (wins) or AUTOCLAW_SLEEP_AFTER_MINUTES: whole or decimal minutes, 0–10080 (a week); 0 turns sleeping off. */
function sleepAfterOf(flag: string | undefined, env: NodeJS.ProcessEnv): number | undefined {
  const [raw, where] = flag !== undefined ? [flag, '--sleep-after'] : [envValue(env, SLEEP_AFTER_ENV), SLEEP_AFTER_ENV];
  if (raw === undefined) return undefined;
  const minutes = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(minutes) || minutes < 0 || minutes > 10_080) throw new UsageError(`${where} is a number of minutes (0–10080; 0: never sleep)`);
  return Math.round(minutes * 60_000);
}

/**
 * Billing: STRIPE_API_KEY and STRIPE_WEBHOOK_SECRET (both, or neither: billing
 * off); AUTOCLAW_STRIPE_API_URL points the SDK at another API root.
 */
export function stripeConfig(env: NodeJS.ProcessEnv): StripeSettings | undefined {
  const apiKey = envValue(env, 'STRIPE_API_KEY');
  const webhookSecret = envValue(env, 'STRIPE_WEBHOOK_SECRET');
  if (apiKey === undefined && webhookSecret === undefined) return undefined;
  if (apiKey === undefined || webhookSecret === undefined) throw new UsageError('STRIPE_API_KEY and STRIPE_WEBHOOK_SECRET go together (set both for billing, or neither)');
  const root = envValue(env, 'AUTOCLAW_STRIPE_API_URL');
  if (root === undefined) return { apiKey, webhookSecret };
  let url: URL;
  try {
    url = new URL(root);
  } catch {
    throw new UsageError('AUTOCLAW_STRIPE_API_URL is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('AUTOCLAW_STRIPE_API_URL must be http(s)');
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return { apiKey, webhookSecret, api: { host: url.hostname, port: Number(url.port || (protocol === 'http' ? 80 : 443)), protocol } };
}

/**
 * Credits: AUTOCLAW_CREDIT_MARGIN_PERCENT (0–1000, up to two decimals; kept
 * as integer basis points) and AUTOCLAW_CREDIT_MONTHLY_RESET (on/off);
 * neither set: no margin, no reset.
 */
export function creditConfig(env: NodeJS.ProcessEnv): CreditSettings | undefined {
  if (envValue(env, 'AUTOCLAW_CREDIT_MARGIN_PERCENT') === undefined && envValue(env, 'AUTOCLAW_CREDIT_MONTHLY_RESET') === undefined) return undefined;
  const margin = envValue(env, 'AUTOCLAW_CREDIT_MARGIN_PERCENT') ?? '0';
  const m = /^(\d{1,4})(?:\.(\d{1,2}))?$/.exec(margin);
  const marginBps = m ? Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0')) : Number.NaN;
  if (!(marginBps >= 0 && marginBps <= 100_000)) throw new UsageError('AUTOCLAW_CREDIT_MARGIN_PERCENT is a percentage from 0 to 1000 with at most two decimals (e.g. 20 or 12.5)');
  const reset = (envValue(env, 'AUTOCLAW_CREDIT_MONTHLY_RESET') ?? 'off').toLowerCase();
  if (!['on', 'off', 'true', 'false', '1', '0'].includes(reset)) throw new UsageError('AUTOCLAW_CREDIT_MONTHLY_RESET is on or off');
  return { marginBps, monthlyReset: ['on', 'true', '1'].includes(reset) };
}

/** A raw Ed25519 public key, base64url (43 characters). */
export function parseReleaseKey(key: string): string {
  if (!/^[A-Za-z0-9_-]{43}$/.test(key)) throw new UsageError('--release-pubkey is a raw Ed25519 public key in base64url (43 characters)');
  return key;
}

/** The environment variable that names the manager's PostgreSQL database (--database wins). */
export const DATABASE_URL_ENV = 'AUTOCLAW_DATABASE_URL';

/**
 * --database URL, else $AUTOCLAW_DATABASE_URL, else the SQLite file in the
 * data directory. Only PostgreSQL URLs are taken (the password, if any,
 * stays in the URL and is never logged).
 */
export function parseDatabase(flag: string | undefined, env: NodeJS.ProcessEnv, dataDir: string): DatabaseTarget {
  const fromEnv = env[DATABASE_URL_ENV]?.trim();
  const [value, where] = flag !== undefined ? [flag.trim(), '--database'] : fromEnv ? [fromEnv, DATABASE_URL_ENV] : [undefined, ''];
  if (value === undefined) return { engine: 'sqlite', path: managerDbPath(dataDir) };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${where} must be a postgres:// URL (without it the manager keeps its state in DIR/manager.db)`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new UsageError(`${where} must be a postgres:// URL (got ${url.protocol.slice(0, 20)}//…)`);
  }
  return { engine: 'postgres', url: value };
}

/** What an operator command that opens the manager's state itself needs (--data, --database, the environment). */
export interface OperatorConfig {
  dataDir: string;
  database: DatabaseTarget;
  masterKeyStore: MasterKeyStore;
  /** How long an update watches the new version's health (AUTOCLAW_UPDATE_HEALTH_WINDOW_MS; default 60 s). */
  updateHealthWindowMs?: number;
  /** Backups to S3-compatible storage (AUTOCLAW_BACKUP_S3_*); sealed into the manager's state at start. */
  backupS3?: BackupS3Config;
}

export const UPDATE_HEALTH_WINDOW_ENV = 'AUTOCLAW_UPDATE_HEALTH_WINDOW_MS';

function healthWindowOf(env: NodeJS.ProcessEnv): { updateHealthWindowMs?: number } {
  const raw = envValue(env, UPDATE_HEALTH_WINDOW_ENV);
  if (raw === undefined) return {};
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 0 || ms > 3_600_000) throw new UsageError(`${UPDATE_HEALTH_WINDOW_ENV} is a whole number of milliseconds (0–3600000)`);
  return { updateHealthWindowMs: ms };
}

function backupS3Of(env: NodeJS.ProcessEnv): { backupS3?: BackupS3Config } {
  const endpoint = envValue(env, 'AUTOCLAW_BACKUP_S3_ENDPOINT');
  const bucket = envValue(env, 'AUTOCLAW_BACKUP_S3_BUCKET');
  const accessKeyId = envValue(env, 'AUTOCLAW_BACKUP_S3_ACCESS_KEY_ID');
  const secretAccessKey = envValue(env, 'AUTOCLAW_BACKUP_S3_SECRET_ACCESS_KEY');
  if (endpoint === undefined && bucket === undefined && accessKeyId === undefined && secretAccessKey === undefined) return {};
  if (endpoint === undefined || bucket === undefined) throw new UsageError('AUTOCLAW_BACKUP_S3_ENDPOINT and AUTOCLAW_BACKUP_S3_BUCKET go together');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) throw new UsageError('AUTOCLAW_BACKUP_S3_ACCESS_KEY_ID and AUTOCLAW_BACKUP_S3_SECRET_ACCESS_KEY go together');
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new UsageError('AUTOCLAW_BACKUP_S3_ENDPOINT is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('AUTOCLAW_BACKUP_S3_ENDPOINT must be http(s)');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new UsageError('AUTOCLAW_BACKUP_S3_BUCKET is not a bucket name');
  const region = envValue(env, 'AUTOCLAW_BACKUP_S3_REGION') ?? 'us-east-1';
  return { backupS3: { endpoint: url.toString().replace(/\/$/, ''), bucket, region, ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}) } };
}

export function parseOperatorConfig(values: { data?: string | undefined; database?: string | undefined }, env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const dataDir = parseDataDir(values.data);
  const storeRaw = env['AUTOCLAW_MASTER_KEY_STORE'];
  return {
    dataDir,
    database: parseDatabase(values.database, env, dataDir),
    masterKeyStore: oneOf('AUTOCLAW_MASTER_KEY_STORE', storeRaw === '' ? undefined : storeRaw, MASTER_KEY_STORES, 'auto'),
    ...healthWindowOf(env),
    ...backupS3Of(env),
  };
}

function providerEnvOf(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PROVIDER_ENV_NAMES) {
    const value = envValue(env, name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}
