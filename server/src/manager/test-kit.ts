/**
 * Test support for the manager's tests (never imported by product code): a
 * manager on a temp data directory (port 0, no OS keychain), real tRPC
 * clients over HTTP and WebSocket, and raw HTTP calls for input a real
 * client would never send.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTRPCClient, createWSClient, httpLink, wsLink } from '@trpc/client';
import type { TRPCClient } from '@trpc/client';
import { WebSocket as NodeWebSocket } from 'ws';
import type { AuthResult } from '@autoclaw/shared';
import type { ManagerConfig } from './config';
import { dumpTables } from './db';
import { killGatewaysUnder, waitDead, waitFor } from './drivers/local/test-support';
import { createTestDatabase } from './db/test-db';
import type { TestDatabase } from './db/test-db';
import { silentLogger } from './gateway-parts';
import type { ManagerRouter } from './router-type';
import { startManager } from './server';
import type { ManagerOptions, RunningManager } from './server';

export type ManagerClient = TRPCClient<ManagerRouter>;

export interface TestManager {
  dir: string;
  manager: RunningManager;
  url: string;
  wsUrl: string;
  /** A tRPC client over HTTP, signed in with `token` when given. */
  client(token?: string, headers?: Record<string, string>): ManagerClient;
  /** A tRPC client over WebSocket, signed in with `token` when given. */
  wsClient(token?: string): { client: ManagerClient; closed: Promise<number>; close(): Promise<void> };
  /** Its database (the SQLite file in `dir`, or a PostgreSQL database of its own). */
  database: TestDatabase;
  /** The owner, made through the setup link. */
  setupOwner(email?: string, password?: string): Promise<AuthResult>;
  /** Every table as text (compare before/after); leaves out leases and replica heartbeats, which tick by themselves. */
  dump(): Promise<string>;
  close(): Promise<void>;
}

export function testConfig(dir: string, over: Partial<ManagerConfig> = {}): ManagerConfig {
  return {
    dataDir: dir,
    port: 0,
    host: '127.0.0.1',
    driver: 'local',
    signup: 'closed',
    tls: null,
    allowOrigins: [],
    masterKeyStore: 'file',
    database: { engine: 'sqlite', path: join(dir, 'manager.db') },
    ...over,
    providerEnv: over.providerEnv ?? {},
  };
}

export async function startTestManager(
  opts: { config?: Partial<ManagerConfig>; options?: ManagerOptions; dir?: string; database?: TestDatabase } = {},
): Promise<TestManager> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'autoclaw-mgr-'));
  // A given database is the caller's (a restart on the same state); a new one goes with this manager.
  const database = opts.database ?? (await createTestDatabase(dir));
  let manager: RunningManager;
  try {
    manager = await startManager(testConfig(dir, { database: database.target, ...opts.config }), {
      logger: silentLogger,
      keychain: null,
      rendererDir: join(dir, 'no-renderer'),
      // Tests that want real gateways ask for them (they outlive a test otherwise).
      provisionOnSignUp: false,
      ...opts.options,
    });
  } catch (err) {
    if (!opts.database) await database.drop();
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const sockets: Array<() => Promise<void>> = [];
  const t: TestManager = {
    dir,
    manager,
    url: manager.url,
    database,
    wsUrl: `${manager.url.replace(/^http/, 'ws')}/trpc`,
    client(token, headers = {}) {
      return createTRPCClient<ManagerRouter>({
        links: [httpLink({ url: `${manager.url}/trpc`, headers: () => ({ ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) }) })],
      });
    },
    wsClient(token) {
      let resolveClosed: (code: number) => void = () => {};
      const closed = new Promise<number>((resolve) => {
        resolveClosed = resolve;
      });
      const ws = createWSClient({
        url: t.wsUrl,
        // ws's WebSocket implements the browser interface tRPC expects.
        WebSocket: NodeWebSocket as unknown as typeof WebSocket,
        ...(token ? { connectionParams: () => ({ token }) } : {}),
        retryDelayMs: () => 60_000,
        onClose: (cause) => resolveClosed(cause?.code ?? 0),
      });
      const close = () => ws.close();
      sockets.push(close);
      return { client: createTRPCClient<ManagerRouter>({ links: [wsLink({ client: ws })] }), closed, close };
    },
    async setupOwner(email = 'owner@example.com', password = 'correct horse battery') {
      const token = manager.setupLink ? new URL(manager.setupLink).searchParams.get('token') : null;
      if (!token) throw new Error('no setup link');
      return t.client().auth.completeSetup.mutate({ token, email, password });
    },
    dump: () => dumpTables(manager.services.db, { exclude: ['leases', 'manager_replicas'] }),
    async close() {
      await Promise.all(sockets.map((c) => c()));
      await manager.close();
      // A caller-owned directory or database may be started on again (a restart).
      if (!opts.database && !opts.dir) await database.drop();
      if (!opts.dir) {
        // The manager leaves the gateways it started running (a restarted one adopts them); nothing will here, and one still
        // rehearsing its start would make its directory again after the removal below.
        for (const pid of killGatewaysUnder(dir)) await waitDead(pid);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  return t;
}

/** The code and reason a WebSocket to `url` was closed with (after it opened), or -1 when it never opened. */
export function wsCloseOf(url: string, headers?: Record<string, string>): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    const ws = new NodeWebSocket(url, headers ? { headers } : {});
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ code: -1, reason: `HTTP ${res.statusCode ?? 0}` });
      ws.terminate();
    });
    ws.once('error', () => undefined);
  });
}

/** A tRPC-over-HTTP call by hand: returns the status and the parsed body. */
export async function rawCall(
  url: string,
  method: 'GET' | 'POST',
  path: string,
  opts: { body?: string; input?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const qs = method === 'GET' && opts.input !== undefined ? `?input=${encodeURIComponent(JSON.stringify(opts.input))}` : '';
  const res = await fetch(`${url}/trpc/${path}${qs}`, {
    method,
    headers: { ...(method === 'POST' ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    ...(method === 'POST' ? { body: opts.body ?? JSON.stringify(opts.input ?? null) } : {}),
  });
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: res.status, body };
}

/** The HTTP status a WebSocket upgrade to `url` got: 101 when it opened (then closed), -1 when the connection failed. */
export function wsUpgradeStatus(url: string, origin?: string, headers?: Record<string, string>): Promise<number> {
  return new Promise<number>((resolve) => {
    const ws = new NodeWebSocket(url, { ...(origin ? { origin } : {}), ...(headers ? { headers } : {}) });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      resolve(101);
      ws.close();
    });
    ws.once('error', () => resolve(-1));
  });
}

/** Creates the signed-in account's instance and waits until it runs (its first gateway start). */
export async function createRunningInstance(api: ManagerClient) {
  await api.instances.create.mutate();
  return waitFor(
    'running',
    async () => {
      const mine = await api.instances.mine.query();
      return mine?.state === 'running' ? mine : null;
    },
    30_000,
  );
}
