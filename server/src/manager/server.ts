/**
 * Starts a manager on a data directory: keys, the database, the audit log,
 * accounts, the HTTP(S) app and the WebSocket, then listens and writes the
 * runtime file the CLI finds it by. `close()` is the graceful stop and
 * leaves no socket, timer or handle behind.
 */
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { AppError } from '@autoclaw/shared';
import { hostPolicyOf, loadOrCreateKeyFile } from '../security';
import { createAccountService } from './accounts';
import type { AccountServiceOptions } from './accounts';
import { managerApp } from './app';
import { DESKTOP_APP_ORIGIN } from './config';
import type { ManagerConfig } from './config';
import { anchorStoreFor, openAuditLog } from './audit';
import { openCluster } from './cluster';
import type { Cluster, ClusterTimings } from './cluster';
import { openManagerDb } from './db';
import { createLogger, defaultRendererDir, isLoopbackHost, LEAN_FASTIFY_OPTIONS, VERSION } from './gateway-parts';
import type { Logger, OriginPolicy } from './gateway-parts';
import { openOsKeychain } from './keychain';
import type { SecretKeychain } from './keychain';
import { loadManagerKeys } from './keys';
import { setUpDriver } from './driver-setup';
import { createInstancesPart } from './instances-part';
import type { InstancesPart, InstancesPartOptions } from './instances-part';
import { createBillingPart } from './billing-part';
import type { BillingPartOptions } from './billing-part';
import { createInstanceDoor } from './instance-door';
import { createDoorActivity, migrateDoorActivity } from './door-activity';
import { createDoorAccess } from './door-access';
import { createManagerMetrics } from './manager-metrics';
import { createManagerOrigins } from './origins';
import { createUpdatesPart, migrateUpdates, releaseImageOf } from './updates';
import type { UpdatesPart, UpdatesPartOptions } from './updates';
import { findLiveManager } from './operator-client';
import { auditHeadPath, operatorKeyPath, preparePrivateDataDir } from './paths';
import { removeManagerRuntime, writeManagerRuntime } from './runtime-file';
import type { ManagerServices } from './trpc';
import { startManagerWs } from './ws';
import type { ManagerWs } from './ws';

export interface ManagerOptions {
  now?: () => number;
  logger?: Logger;
  /** The renderer build (default: desktop/dist/renderer of this checkout). */
  rendererDir?: string;
  /** The OS keychain for the master key; null for none (default: @napi-rs/keyring when it loads). */
  keychain?: SecretKeychain | null;
  /** Sign-in limits and session timings (tests shorten them). */
  accounts?: Pick<AccountServiceOptions, 'limits' | 'sessions' | 'setupTtlMs'>;
  /** The instances part: the Kubernetes driver, the local driver's gateway command, supervisor timings, gateway env. */
  instances?: Partial<Pick<InstancesPartOptions, 'driver' | 'localDriver' | 'gatewayEnv' | 'memoryLimitMb' | 'supervisor' | 'deviceUrlOf' | 'stopGatewaysOnClose' | 'gatewayCallTimeoutMs' | 'readyTimeoutMs' | 'idle' | 'wakeTimeoutMs' | 'provisionAsleep'>>;
  /** Leader-lease timings (tests shorten them; default: a dead leader is replaced within ~6 s). */
  cluster?: Partial<ClusterTimings>;
  /** The updates part: backup target, retention, timings, test seams. */
  updates?: Partial<Omit<UpdatesPartOptions, 'dataDir' | 'db' | 'instances' | 'masterKey' | 'now' | 'logger'>>;
  /** How often at most each replica records an instance's use through its door in the database (default 10 s). */
  doorActivityWriteEveryMs?: number;
  /** Provision a new user's instance as soon as the account exists (default true: the user never runs a server). */
  provisionOnSignUp?: boolean;
  /** Billing: how often the leader pulls usage from the gateways, rows per pull. */
  billing?: Pick<BillingPartOptions, 'syncEveryMs' | 'pageSize'>;
}

export interface RunningManager {
  /** http(s)://host:port */
  url: string;
  port: number;
  /** `URL/setup?token=…` while no account exists (printed once at start), else null. */
  setupLink: string | null;
  services: ManagerServices;
  /** This replica among the others (its id, the leader lease while it leads). */
  cluster: Cluster;
  /** One round of the sleeper now, while this replica leads (tests, with an injected clock). */
  sleepRound(): Promise<void>;
  close(): Promise<void>;
}


function readTls(config: ManagerConfig): { cert: Buffer; key: Buffer } | null {
  if (!config.tls) return null;
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new AppError('NOT_FOUND', `cannot read the TLS ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
    }
  };
  return { cert: read(config.tls.certPath, 'certificate'), key: read(config.tls.keyPath, 'key') };
}

function listenError(err: unknown, config: ManagerConfig): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `${config.host}:${config.port}`;
  if (code === 'EADDRINUSE') return new AppError('CONFLICT', `${where} is already in use (pick another --port, or --port 0 for a free one)`, { cause: err });
  if (code === 'EACCES') return new AppError('FORBIDDEN', `no permission to listen on ${where} (use a port above 1023)`, { cause: err });
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return new AppError('BAD_REQUEST', `--host ${config.host} is not an address of this machine`, { cause: err });
  return err;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** Requests node's parser refuses (huge headers, garbage) get the same typed error body as the rest. */
function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'PAYLOAD_TOO_LARGE', 'the request headers (or the URL) are too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'TIMEOUT', 'the request took too long']
        : [400, 'BAD_REQUEST', 'malformed HTTP request'];
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function createFastify(tls: { cert: Buffer; key: Buffer } | null): FastifyInstance {
  const common = { ...LEAN_FASTIFY_OPTIONS, clientErrorHandler } as const;
  try {
    // fastify's overloads differ for http and https; both give a FastifyInstance.
    return (tls ? Fastify({ ...common, https: { cert: tls.cert, key: tls.key } }) : Fastify(common)) as unknown as FastifyInstance;
  } catch (err) {
    throw new AppError('BAD_REQUEST', `the TLS certificate or key cannot be used: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

export async function startManager(config: ManagerConfig, options: ManagerOptions = {}): Promise<RunningManager> {
  const now = options.now ?? Date.now;
  const logger = options.logger ?? createLogger({ now });
  const { dataDir } = config;
  const replicated = config.database.engine === 'postgres';
  for (const warning of preparePrivateDataDir(dataDir, config.database)) logger.warn(warning);

  // SQLite: one manager per data directory. PostgreSQL: replicas may share one.
  const other = replicated ? null : await findLiveManager(dataDir);
  if (other) throw new AppError('CONFLICT', `a manager is already running on ${dataDir} at ${other.url} (pid ${other.pid})`);

  const tls = readTls(config);
  // The driver (and, on Kubernetes, the master key from its Secret) before anything opens: a bad setup stops here.
  const localDriver = { ...(config.warmStandbys ? { standbys: config.warmStandbys } : {}), ...options.instances?.localDriver };
  const drivers = await setUpDriver(config, {
    now,
    logger,
    ...(options.instances?.driver ? { driver: options.instances.driver } : {}),
    localDriver,
  });
  const keychain = options.keychain !== undefined ? options.keychain : config.masterKeyStore === 'file' || drivers.masterKey ? null : openOsKeychain();
  const keys = loadManagerKeys({
    dataDir,
    store: config.masterKeyStore,
    keychain,
    logger,
    ...(drivers.masterKey ? { external: drivers.masterKey } : {}),
    ...(config.signingKeyPem === undefined ? {} : { signingKeyPem: config.signingKeyPem }),
  });
  const operatorKey = loadOrCreateKeyFile(operatorKeyPath(dataDir));
  const db = await openManagerDb(config.database);
  const cleanups: Array<() => Promise<void> | void> = [() => db.close()];
  const runCleanups = async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        logger.error('shutdown step failed', { err });
      }
    }
  };

  try {
    const headPath = auditHeadPath(dataDir);
    const anchor = anchorStoreFor(dataDir, keys.masterKeySource, keychain);
    const audit = await openAuditLog({ db, headPath, anchor, sign: keys.sign, publicKey: keys.publicKey, now, logger });
    // Set once the instances part exists (sign-in asks it about paired devices).
    let instances: InstancesPart | null = null;
    const cluster: Cluster = await openCluster({ db, now, logger, ...(options.cluster ? { timings: options.cluster } : {}) });
    let ws: ManagerWs | null = null;
    const accounts = await createAccountService({
      db,
      audit,
      signup: config.signup,
      now,
      logger,
      ...options.accounts,
      onSessionsRevoked: (ids) => ws?.closeSessions(ids),
      isPairedDevice: async (email, publicKey) => (instances ? instances.service.isPairedDevice(email, publicKey) : false),
    });
    const services: ManagerServices = { config, db, accounts, audit, auditAnchor: anchor, keys, auditHeadPath: headPath, now, logger, version: VERSION };
    // ─── Other manager parts (instances, drivers, supervisor) start here and
    //     push their stop onto `cleanups` (helper G). ─────────────────────────
    let updates: UpdatesPart | null = null;
    await migrateUpdates(db);
    const versionRows = async (id: string) => (await db.k.selectFrom('instance_releases').select('version').where('instance_id', '=', id).executeTakeFirst())?.version ?? null;
    await migrateDoorActivity(db);
    const doorActivity = createDoorActivity({ now, db, logger, ...(options.doorActivityWriteEveryMs ? { writeEveryMs: options.doorActivityWriteEveryMs } : {}) });
    cleanups.push(() => doorActivity.flush());
    const part = await createInstancesPart({
      dataDir,
      driverKind: config.driver,
      db,
      keys,
      audit,
      now,
      logger,
      // Every live replica's UI may talk to the gateways (read at each gateway start).
      allowedOrigins: () => cluster.origins(),
      gatewayEnv: config.providerEnv,
      locks: { leases: cluster.leases, holder: cluster.replicaId },
      versionOf: versionRows,
      // Kubernetes runs a release as its image pinned by digest.
      ...(config.driver === 'kubernetes' ? { imageOf: (version: string) => releaseImageOf(db, version) } : {}),
      beforeRecover: async (fence) => updates?.recover(fence),
      doorUse: (id) => doorActivity.shared(id),
      removeWith: (t, id) => doorActivity.removeIn(t, id),
      ...(config.sleepAfterMs === undefined ? {} : { idle: { sleepAfterMs: config.sleepAfterMs } }),
      ...(config.provisionAsleep ? { provisionAsleep: true } : {}),
      ...options.instances,
      localDriver,
      ...drivers.instances,
    });
    instances = part;
    services.instances = part.service;
    cleanups.push(() => part.close());
    const updatesPart = await createUpdatesPart({
      dataDir,
      db,
      instances: part.service,
      masterKey: keys.masterKey,
      now,
      logger,
      builtInVersion: VERSION,
      ...(config.releaseKeys ? { releaseKeys: config.releaseKeys } : {}),
      ...(config.updateHealthWindowMs === undefined ? {} : { timings: { healthWindowMs: config.updateHealthWindowMs } }),
      ...(config.backupS3 ? { s3: config.backupS3 } : {}),
      ...options.updates,
    });
    updates = updatesPart;
    services.updates = updatesPart;
    cleanups.push(() => updatesPart.close());
    // Supervision (after recovering every instance) and the backup/update schedule run on the leader only.
    cluster.whileLeader({
      name: 'instances',
      start: async (_lease, fence) => {
        await part.lead(fence);
        updatesPart.lead(fence);
      },
      stop: async () => {
        await updatesPart.unlead();
        await part.unlead();
      },
    });
    // Usage for billing: pulled from every live gateway by the leader only.
    // Checkout sends the user back only to a page of this manager (its origins are known once it listens).
    const returnTo: { origins: OriginPolicy | null } = { origins: null };
    const returnAllowed = (url: string): boolean => returnTo.origins?.isAllowed(new URL(url).origin) === true;
    const billing = await createBillingPart({ db, now, logger, instances: part.service, stripe: config.stripe, credits: config.credits, returnAllowed, ...options.billing });
    services.billing = billing;
    cluster.whileLeader({ name: 'billing-usage', start: async (_lease, fence) => billing.usage.start(fence), stop: () => billing.usage.stop() });
    if (options.provisionOnSignUp !== false) {
      const instanceService = part.service;
      const unsubscribe = accounts.onUserCreated(async (user) => {
        try {
          await instanceService.ensureFor(user.email, { actor: `user:${user.id}` });
        } catch (err) {
          logger.error("could not provision the new user's instance", { user: user.id, err: err instanceof Error ? err.message : String(err) });
        }
      });
      cleanups.push(unsubscribe);
    }

    let ready = false;
    let port = 0;
    const app = createFastify(tls);
    const origins = createManagerOrigins({ host: config.host, scheme: tls ? 'https' : 'http', allowOrigins: [DESKTOP_APP_ORIGIN, ...config.allowOrigins], port: () => port });
    const hosts = hostPolicyOf(config, () => port);
    if (services.billing) returnTo.origins = origins;
    const metrics = createManagerMetrics({ db, isLeader: () => cluster.leader() !== null });
    const doorAccess = createDoorAccess({ masterKey: keys.masterKey, accounts, now, ownerOf: async (id) => (await part.service.get(id))?.owner ?? null });
    services.doorPasses = doorAccess;
    const door = createInstanceDoor({ resolve: (id) => part.doorTarget(id), logger, activity: doorActivity, access: doorAccess });
    cleanups.push(() => door.close());
    await app.register(managerApp, {
      services,
      metrics: { book: metrics.book, access: { token: config.metricsToken } },
      door,
      origins,
      hosts,
      rendererDir: options.rendererDir ?? defaultRendererDir(),
      operatorKey,
      isReady: () => ready,
      logger,
    });
    cleanups.push(() => app.close());
    const sockets = startManagerWs({ server: app.server, services, origins, hosts, logger, door });
    ws = sockets;
    cleanups.push(() => sockets.close());

    await app.listen({ port: config.port, host: config.host }).catch((err: unknown) => {
      throw listenError(err, config);
    });
    const address = app.server.address();
    port = typeof address === 'object' && address !== null ? address.port : config.port;
    const url = `${tls ? 'https' : 'http'}://${urlHost(config.host)}:${port}`;
    writeManagerRuntime(dataDir, { pid: process.pid, port, url, startedAt: now(), tlsCertPath: config.tls?.certPath ?? null }, { replica: replicated });
    cleanups.push(() => removeManagerRuntime(dataDir));
    ready = true;
    // Stopped first on close: the lease is released at once, so another replica takes over without waiting.
    cleanups.push(() => cluster.stop());
    // The leader settles every instance a previous manager left (re-adopted, resumed, finished) before start resolves.
    const leads = await cluster.start({ url, origins: () => origins.allowed() });
    if (!isLoopbackHost(config.host)) {
      logger.warn('WARNING: the manager is reachable beyond this machine; use --tls-cert/--tls-key or a private network', { host: config.host });
    }
    const setup = await accounts.issueSetupLink();
    logger.info('manager listening', {
      url,
      version: VERSION,
      driver: config.driver,
      signup: config.signup,
      masterKey: keys.masterKeySource,
      database: db.where,
      replica: cluster.replicaId,
      leader: leads,
    });

    let closing: Promise<void> | null = null;
    return {
      url,
      port,
      setupLink: setup ? `${url}/setup?token=${setup.token}` : null,
      services,
      cluster,
      sleepRound: async () => part.sleeper()?.tick(),
      close() {
        closing ??= (async () => {
          ready = false;
          await runCleanups();
          logger.info('manager stopped');
        })();
        return closing;
      },
    };
  } catch (err) {
    await runCleanups();
    throw err;
  }
}
