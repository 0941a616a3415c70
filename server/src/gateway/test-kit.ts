/**
 * Test support for the gateway's tests (never imported by product code): a
 * gateway on a temp data directory with a local Anthropic wire server as its
 * provider, paired test devices, and a raw WebSocket client that speaks the
 * tRPC wire format by hand (for frames a real client would never send).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { authPayload } from '@autoclaw/shared';
import type { ChallengeResponse, DeviceRole } from '@autoclaw/shared';
import { startAnthropicWireServer } from '../testing';
import type { WireServerHandle } from '../testing';
import { generateDeviceKey, signPayload } from '../security';
import type { DeviceKeyPair } from '../security';
import { connectAsDevice } from '../cli';
import type { GatewayConnection } from '../cli';
import type { GatewayConfig } from './config';
import { silentLogger } from './logger';
import { startGateway } from './server';
import type { GatewayOptions, RunningGateway } from './server';

export interface TestGateway {
  dir: string;
  gateway: RunningGateway;
  wire: WireServerHandle;
  url: string;
  wsUrl: string;
  /** A new client device registered straight in the store (an owner unless `role` says chat). */
  addDevice(name?: string, role?: DeviceRole): DeviceKeyPair;
  connect(key: DeviceKeyPair): GatewayConnection;
  close(): Promise<void>;
}

export async function startTestGateway(
  opts: { config?: Partial<GatewayConfig>; options?: GatewayOptions; dir?: string; keepDir?: boolean; model?: string; apiKey?: string } = {},
): Promise<TestGateway> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'autoclaw-gw-'));
  const wire = await startAnthropicWireServer();
  const config: GatewayConfig = {
    dataDir: dir,
    port: 0,
    host: '127.0.0.1',
    allowOrigins: [],
    env: { 'anthropic.apiKey': opts.apiKey ?? 'test-key', 'anthropic.baseUrl': wire.url, model: opts.model ?? 'anthropic:claude-test-model' },
    ...opts.config,
  };
  let gateway: RunningGateway;
  try {
    gateway = await startGateway(config, { logger: silentLogger, rendererDir: join(dir, 'no-renderer'), ...opts.options });
  } catch (err) {
    await wire.close();
    if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const connections: GatewayConnection[] = [];
  return {
    dir,
    gateway,
    wire,
    url: gateway.url,
    wsUrl: `${gateway.url.replace(/^http/, 'ws')}/trpc`,
    addDevice(name = 'test device', role: DeviceRole = 'owner') {
      const key = generateDeviceKey();
      gateway.store.insertDevice({ id: key.deviceId, name, kind: 'client', role, publicKey: key.publicKey });
      return key;
    },
    connect(key) {
      const conn = connectAsDevice({ url: gateway.url, key });
      connections.push(conn);
      return conn;
    },
    async close() {
      await Promise.all(connections.map((c) => c.close()));
      await gateway.close();
      await wire.close();
      if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function getChallenge(url: string, headers: Record<string, string> = {}): Promise<ChallengeResponse> {
  const res = await fetch(`${url}/auth/challenge`, { headers });
  if (!res.ok) throw new Error(`challenge: HTTP ${res.status}`);
  return (await res.json()) as ChallengeResponse;
}

/** A POST /auth/pair body for `key` with a fresh challenge. */
export async function pairBody(url: string, key: DeviceKeyPair, code: string, timestamp = Date.now()) {
  const { nonce } = await getChallenge(url);
  return {
    pairingCode: code,
    publicKey: key.publicKey,
    deviceName: 'Browser',
    nonce,
    timestamp,
    signature: signPayload(key.privateKey, authPayload(nonce, key.deviceId, timestamp)),
  };
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

export function signedParams(key: DeviceKeyPair, nonce: string, timestamp = Date.now(), deviceId = key.deviceId) {
  return { deviceId, nonce, timestamp: String(timestamp), signature: signPayload(key.privateKey, authPayload(nonce, deviceId, timestamp)) };
}

export interface RawSocket {
  ws: WebSocket;
  /** Every JSON message received. */
  received: unknown[];
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the first received message matching `pred`. */
  next(pred: (msg: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  send(frame: unknown): void;
  /** Sends one tRPC call and waits for its answer. */
  call(method: 'query' | 'mutation', path: string, input?: unknown): Promise<Record<string, unknown>>;
}

/** Opens a socket (resolves once open); rejects with the HTTP status when the upgrade is refused. */
export function openRawSocket(wsUrl: string, opts: { origin?: string; query?: string; headers?: Record<string, string> } = {}): Promise<RawSocket> {
  const url = `${wsUrl}${opts.query ?? '?connectionParams=1'}`;
  const ws = new WebSocket(url, { ...(opts.origin === undefined ? {} : { origin: opts.origin }), ...(opts.headers ? { headers: opts.headers } : {}) });
  const received: unknown[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    const text = data.toString();
    try {
      received.push(JSON.parse(text));
    } catch {
      received.push(text);
    }
    for (const w of [...waiters]) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      for (const w of [...waiters]) w();
    });
  });
  let nextId = 1;
  const socket: RawSocket = {
    ws,
    call(method, path, input) {
      const id = nextId++;
      socket.send({ id, method, params: { path, input } });
      return socket.next((m) => m['id'] === id);
    },
    received,
    closed,
    send(frame) {
      ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    },
    next(pred, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = received.find((m) => typeof m === 'object' && m !== null && pred(m as Record<string, unknown>));
          if (hit) {
            done();
            resolve(hit as Record<string, unknown>);
          } else if (ws.readyState === WebSocket.CLOSED) {
            done();
            reject(new Error('socket closed before the expected message'));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error('timed out waiting for a message'));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(socket));
    ws.once('unexpected-response', (_req, res) => {
      reject(Object.assign(new Error(`upgrade refused: HTTP ${res.statusCode}`), { status: res.statusCode }));
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

/** Opens a raw socket and authenticates it with connectionParams. */
export async function openAuthedSocket(url: string, key: DeviceKeyPair, headers?: Record<string, string>): Promise<RawSocket> {
  const { nonce } = await getChallenge(url);
  const socket = await openRawSocket(`${url.replace(/^http/, 'ws')}/trpc`, headers ? { headers } : {});
  socket.send({ method: 'connectionParams', data: signedParams(key, nonce) });
  return socket;
}
