/**
 * Starts a gateway on a data directory: opens the store (recovering from an
 * unclean stop), starts the chat service, listens, and writes the runtime
 * file the CLI finds it by. `close()` is the graceful stop and leaves no
 * socket, timer or handle behind.
 */
import Fastify from 'fastify';
import { AppError, WS_CLOSE_UNAUTHORIZED } from '@autoclaw/shared';
import { createChatService } from '../agent';
import { createSkillService } from '../skills';
import { createChannelManager, type ChannelTuning } from '../channels';
import { createProviderResolver } from '../agent/providers/index';
import { openStore, readSchemaVersion, SCHEMA_VERSION } from '../store';
import type { Store } from '../store';
import { deviceIdFromPublicKey, hostPolicyOf, createNonceStore, ensureOperatorDevice, ensurePrivateDir, createFailureThrottle, createSettings, loadOrCreateKeyFile, createVault, readDataKeyFile, readDataKeyFromFd } from '../security';
import { createLocalApiClient, createTailscaleIdentityCheck, describeTransport, resolveLocalApiTransport } from '../tailscale';
import type { TailscaleIdentityCheck } from '../tailscale';
import { gatewayApp } from './app';
import { LEAN_FASTIFY_OPTIONS } from './fastify-options';
import { defaultRendererDir } from './static-files';
import { createIdleCollector } from './idle-collector';
import { databasePath, dataKeyPath, skillsTmpPath, workspacePath } from './data-dir';
import type { GatewayConfig } from './config';
import { isLoopbackHost } from './config';
import { asObjectLogger, createLogger } from './logger';
import type { Logger } from './logger';
import { createOriginPolicy } from './origin-policy';
import { createGatewayAdmin, runChecks } from './gateway-admin';
import { createGatewayMetrics } from './gateway-metrics';
import { createNoticeBoard, type NoticeBoard } from './notice-board';
import { findRunningGateway, removeRuntimeFile, writeRuntimeFile } from './runtime-file';
import { createSocketRegistry } from './socket-registry';
import type { DeviceAdmin, GatewayServices } from './trpc';
import { startPhases } from './start-phases';
import { VERSION } from './version';
import { startWsGateway } from './ws-gateway';

export interface GatewayOptions {
  now?: () => number;
  logger?: Logger;
  /** Where the WebChat build lives (default: desktop/dist/renderer of this checkout). */
  rendererDir?: string;
  /** A socket that has not authenticated by then is closed (default 10 s). */
  authTimeoutMs?: number;
  /** Failed pairings/handshakes per address before growing delays start (default 5). */
  authFreeFailures?: number;
  /** Sockets per address that have not authenticated yet (default 16; the oldest is closed past it). */
  maxUnauthenticatedSockets?: number;
  /** A skill process with no call for this long stops (default 60 s). */
  skillIdleMs?: number;
  /** The data key itself (a warm standby got it with its assignment); else from the config's fd or file. */
  dataKey?: Buffer;
  /** Chat channels: test knobs (poll timeout, liveness limit) and the reconnect backoff. */
  channels?: { tuning?: ChannelTuning; backoffMs?: (attempt: number) => number };
}

export interface RunningGateway {
  url: string;
  port: number;
  store: Store;
  /** Where the gateway's parts (and tests) publish notices for the user. */
  notices: NoticeBoard;
  close(): Promise<void>;
}


/** Turns the usual listen failures into messages a person can act on. */
function listenError(err: unknown, config: GatewayConfig): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `${config.host}:${config.port}`;
  if (code === 'EADDRINUSE') return new AppError('CONFLICT', `${where} is already in use (pick another --port, or --port 0 for a free one)`, { cause: err });
  if (code === 'EACCES') return new AppError('FORBIDDEN', `no permission to listen on ${where} (use a port above 1023)`, { cause: err });
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return new AppError('BAD_REQUEST', `--host ${config.host} is not an address of this machine`, { cause: err });
  }
  return err;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

async function answersHealth(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * A managed instance gets its key from the manager over an inherited fd, or
 * from a file the platform mounts apart from the data; nothing is written.
 * A gateway of its own keeps it in DIR/data.key.
 */
async function loadDataKey(config: GatewayConfig, given?: Buffer): Promise<Buffer> {
  if (given !== undefined) return given;
  if (config.dataKeyFd !== undefined) return readDataKeyFromFd(config.dataKeyFd);
  if (config.dataKeyFile !== undefined) return readDataKeyFile(config.dataKeyFile, { dataDir: config.dataDir });
  return loadOrCreateKeyFile(dataKeyPath(config.dataDir));
}

/** With --tailscale-owner: whois of every request that came through Tailscale Serve. */
function identityCheckOf(config: GatewayConfig, now: () => number, logger: Logger): { check: TailscaleIdentityCheck; where: string } | undefined {
  if (!config.tailscale) return undefined;
  const transport = resolveLocalApiTransport(config.tailscale.socketPath === undefined ? {} : { socketPath: config.tailscale.socketPath });
  const localapi = createLocalApiClient({ transport, timeoutMs: 3_000 });
  const inner = createTailscaleIdentityCheck({ localapi, ownerLogin: config.tailscale.ownerLogin, now });
  const check: TailscaleIdentityCheck = {
    async check(req) {
      const decision = await inner.check(req);
      if (!decision.allow) logger.warn('request through Tailscale Serve refused', { status: decision.status, reason: decision.reason });
      return decision;
    },
  };
  return { check, where: describeTransport(transport) };
}

export async function startGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<RunningGateway> {
  const now = options.now ?? Date.now;
  const phases = startPhases();
  const logger = options.logger ?? createLogger({ now });
  const { dataDir } = config;
  // 0700, and an existing looser directory tightened (or a warning saying why not).
  for (const dir of [dataDir, workspacePath(dataDir)]) {
    const warning = ensurePrivateDir(dir);
    if (warning) logger.warn(warning);
  }

  const other = findRunningGateway(dataDir);
  if (other && (await answersHealth(other.url))) {
    throw new AppError('CONFLICT', `a gateway is already running on ${dataDir} at ${other.url} (pid ${other.pid})`);
  }

  const dataKey = await loadDataKey(config, options.dataKey);
  const vault = createVault(dataKey);
  const tailscale = identityCheckOf(config, now, logger);
  phases.mark('key');
  const store = openStore({
    path: databasePath(dataDir),
    now,
    onWarning: (message) => logger.warn(message),
    backgroundCheckpoint: { onError: (message) => logger.warn(message) },
  });
  phases.mark('store');
  const cleanups: Array<() => Promise<void> | void> = [() => store.close()];
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
    const report = store.recover();
    if (report.interruptedTurns + report.interruptedMessages + report.interruptedToolCalls > 0 || report.queued.length > 0) {
      logger.info('recovered after an unclean stop', {
        interruptedTurns: report.interruptedTurns,
        interruptedMessages: report.interruptedMessages,
        interruptedToolCalls: report.interruptedToolCalls,
        queued: report.queued.length,
      });
    }
    ensureOperatorDevice(store, dataDir);
    const settings = createSettings({ store, vault, env: config.env });
    const resolver = createProviderResolver({ now });
    const idleCollector = createIdleCollector();
    const skills = createSkillService({
      store,
      vault: createVault(dataKey, 'skills'),
      workspaceDir: workspacePath(dataDir),
      tmpDir: skillsTmpPath(dataDir),
      now,
      logger,
      ...(config.skillsDir === undefined ? {} : { skillsDir: config.skillsDir }),
      extraKeys: config.skillsPubkeys ?? [],
      ...(config.chromiumPath === undefined ? {} : { chromiumPath: config.chromiumPath }),
      ...(options.skillIdleMs === undefined ? {} : { idleMs: options.skillIdleMs }),
      // A browser on this machine can come back to the gateway itself; a remote one cannot (the desktop app catches it).
      oauthRedirect: () => (port > 0 && isLoopbackHost(config.host) ? `http://${urlHost(config.host)}:${port}/oauth/callback` : null),
    });
    skills.start();
    // Stopped after the chat service (cleanups run in reverse): turns end first, then skill processes.
    cleanups.push(() => skills.stop());
    const notices = createNoticeBoard({ store, logger });
    cleanups.push(() => notices.close());
    let connections = () => 0;
    let queueStats = () => ({ queueDepth: 0, busySessions: 0 });
    const metrics = createGatewayMetrics({
      store,
      logger,
      queueDepth: () => queueStats().queueDepth,
      busySessions: () => queueStats().busySessions,
      clients: () => connections(),
    });
    const chat = createChatService({
      store,
      tools: skills.catalog,
      resolveProvider: () => resolver.resolve(settings.providerSettings()),
      workspaceDir: workspacePath(dataDir),
      now,
      logger: asObjectLogger(logger),
      onIdle: () => idleCollector.quiet(),
      notices,
      onTurnEnd: (turn) => metrics.turnEnded(turn),
    });
    queueStats = () => chat.stats();
    // Made before the chat service starts: delivery must see the turns it resumes.
    const channels = createChannelManager({
      store,
      chat,
      settings,
      vault,
      notices,
      logger: asObjectLogger(logger),
      now,
      workspaceDir: workspacePath(dataDir),
      ...(options.channels?.tuning ? { tuning: options.channels.tuning } : {}),
      ...(options.channels?.backoffMs ? { backoffMs: options.channels.backoffMs } : {}),
    });
    phases.mark('services');
    await chat.start();
    cleanups.push(() => chat.stop());
    phases.mark('chat');
    cleanups.push(() => idleCollector.stop());

    let ready = false;
    let port = 0;
    const app = Fastify(LEAN_FASTIFY_OPTIONS);
    const auth = { store, nonces: createNonceStore({ now }), now };
    const limiter = createFailureThrottle({ now, freeFailures: options.authFreeFailures ?? 5 });
    const origins = createOriginPolicy({ host: config.host, allowOrigins: config.allowOrigins, port: () => port });
    const hosts = hostPolicyOf(config, () => port);
    await app.register(gatewayApp, {
      auth,
      limiter,
      origins,
      hosts,
      // A draining gateway takes no new turns: not ready (the manager's door holds clients until the next one is).
      isReady: () => ready && !admin.draining,
      rendererDir: options.rendererDir ?? defaultRendererDir(),
      logger,
      channelRoutes: channels.routes,
      ...(config.instanceId === undefined ? {} : { instanceId: config.instanceId }),
      ...(config.managerKey === undefined ? {} : { managerPublicKey: config.managerKey }),
      ...(tailscale === undefined ? {} : { tailscaleIdentity: tailscale.check }),
      metrics: { book: metrics.book, access: { token: config.metricsToken } },
      oauthCallback: async (state, code) => {
        const view = await skills.oauthFinish(state, code);
        return `Your Google account is connected to the ${view.name} skill. You can close this tab.`;
      },
    });
    cleanups.push(() => app.close());
    phases.mark('app');

    const registry = createSocketRegistry();
    const managerDeviceId = config.managerKey === undefined ? null : deviceIdFromPublicKey(config.managerKey);
    const devices: DeviceAdmin = {
      revoke(deviceId, actor) {
        const device = store.getDevice(deviceId);
        if (!device) throw new AppError('NOT_FOUND', `no device ${deviceId}`);
        if (device.kind === 'operator') throw new AppError('FORBIDDEN', 'the local operator device cannot be revoked');
        if (device.kind === 'manager') throw new AppError('FORBIDDEN', 'the manager device cannot be revoked');
        store.revokeDevice(deviceId, { deviceId: actor, action: 'devices.revoke', target: deviceId, detail: device.name });
        const closed = registry.closeDevice(deviceId, WS_CLOSE_UNAUTHORIZED, 'device revoked');
        logger.info('device revoked', { deviceId, closedSockets: closed });
      },
      setRole(deviceId, role, actor) {
        const device = store.getDevice(deviceId);
        if (!device) throw new AppError('NOT_FOUND', `no device ${deviceId}`);
        if (device.kind !== 'client') throw new AppError('FORBIDDEN', `the ${device.kind} device is always an owner`);
        if (device.revokedAt !== null) throw new AppError('CONFLICT', 'this device was revoked');
        if (device.role === role) return device;
        const changed = store.setDeviceRole(deviceId, role, { deviceId: actor, action: 'devices.role', target: deviceId, oldValue: device.role, newValue: role, detail: device.name });
        if (!changed) throw new AppError('NOT_FOUND', `no device ${deviceId}`);
        logger.info('device role changed', { deviceId, role });
        return changed;
      },
    };
    const admin = createGatewayAdmin({
      chat,
      now,
      logger,
      notify: (input) => void notices.publish(input),
      clients: () => registry.count() - (managerDeviceId === null ? 0 : registry.count(managerDeviceId)),
      keepAwake: () => channels.keepAwake(),
      selfCheck: () => {
        let schema = -1;
        const checks = runChecks({
          store: () => `${store.listSessionsPage({ limit: 1 }).sessions.length} session(s) readable`,
          migrations: () => {
            schema = readSchemaVersion(databasePath(dataDir));
            if (schema !== SCHEMA_VERSION) throw new Error(`the data is at schema ${schema}, this build at ${SCHEMA_VERSION}`);
            return `schema ${schema}`;
          },
          vault: () => (vault.decrypt(vault.encrypt('self-check', 'self-check'), 'self-check') === 'self-check' ? 'the data key opens the vault' : 'mismatch'),
          agent: () => `${chat.stats().busySessions} busy session(s); model ${settings.providerSettings().model.provider}:${settings.providerSettings().model.model}`,
        });
        return { ok: checks.every((c) => c.ok), version: VERSION, schemaVersion: schema, checks };
      },
    });
    cleanups.push(() => admin.close());
    const services: GatewayServices = { store, chat, settings, devices, notices, channels, version: VERSION, admin, skills, turnLog: metrics };
    const ws = startWsGateway({
      server: app.server,
      services,
      auth,
      limiter,
      origins,
      hosts,
      registry,
      logger,
      ...(tailscale === undefined ? {} : { tailscaleIdentity: tailscale.check }),
      ...(options.authTimeoutMs === undefined ? {} : { authTimeoutMs: options.authTimeoutMs }),
      ...(options.maxUnauthenticatedSockets === undefined ? {} : { maxUnauthenticatedSockets: options.maxUnauthenticatedSockets }),
    });
    connections = () => ws.connections;
    // Sockets close before the HTTP server and the chat service stop.
    cleanups.push(() => ws.close());
    // Channels stop first of all (before sockets, the server and the chat service).
    await channels.start();
    cleanups.push(() => channels.stop());
    phases.mark('channels');

    await app.listen({ port: config.port, host: config.host }).catch((err: unknown) => {
      throw listenError(err, config);
    });
    const address = app.server.address();
    port = typeof address === 'object' && address !== null ? address.port : config.port;
    const url = `http://${urlHost(config.host)}:${port}`;
    phases.mark('listen');
    // Ready before the runtime file exists: the local driver takes the file as the readiness signal.
    ready = true;
    writeRuntimeFile(dataDir, { pid: process.pid, port, url, startedAt: now() });
    cleanups.push(() => removeRuntimeFile(dataDir));
    if (!isLoopbackHost(config.host)) {
      logger.warn('WARNING: the gateway is reachable beyond this machine; only paired devices can use it', { host: config.host });
    }
    if (config.tailscale && tailscale) {
      logger.info('requests through Tailscale Serve must come from the owner', { owner: config.tailscale.ownerLogin, localapi: tailscale.where });
    }
    logger.info('gateway listening', { url, version: VERSION, startMs: phases.done() });

    let closing: Promise<void> | null = null;
    return {
      url,
      port,
      store,
      notices,
      close() {
        closing ??= (async () => {
          ready = false;
          await runCleanups();
          logger.info('gateway stopped');
        })();
        return closing;
      },
    };
  } catch (err) {
    await runCleanups();
    throw err;
  }
}
