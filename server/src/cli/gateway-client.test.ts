/**
 * The CLI's gateway client against a loopback server speaking the gateway's
 * wire (GET /auth/challenge, tRPC over WebSocket) that drops the socket in
 * the middle of a call, as a gateway killed with SIGKILL does.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { AppError } from '@autoclaw/shared';
import { WS_PATH } from '../gateway';
import { generateDeviceKey } from '../security';
import { connectAsDevice } from './gateway-client';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(null));
  server = undefined;
});

/** Answers challenges; on the WebSocket, drops the connection when a mutation arrives. */
async function startDroppingGateway(): Promise<{ url: string; mutations: () => number }> {
  let mutations = 0;
  server = createServer((req, res) => {
    if (req.url === '/auth/challenge') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ nonce: 'n'.repeat(32), expiresAt: Date.now() + 60_000 }));
    } else res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ server, path: WS_PATH });
  wss.on('connection', (ws) => {
    ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as { method?: string };
      if (message.method === 'mutation') {
        mutations += 1;
        ws.terminate();
      }
    });
  });
  server.on('close', () => wss.close());
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, mutations: () => mutations };
}

it('a call the dropped socket cuts off fails as "lost the connection", not an unknown error', async () => {
  const gw = await startDroppingGateway();
  const conn = connectAsDevice({ url: gw.url, key: generateDeviceKey() });
  try {
    const err = await conn.call(conn.client.sessions.ensure.mutate({ name: 'main' })).catch((e: unknown) => e);
    expect(gw.mutations()).toBe(1);
    expect(AppError.is(err) && err.code).toBe('NOT_FOUND');
    expect((err as Error).message).toBe(`lost the connection to the gateway at ${gw.url}`);
  } finally {
    await conn.close();
  }
});

it('gives up on a port whose process accepts and never answers the handshake', async () => {
  const silent = createNetServer(() => {});
  const sockets = new Set<Socket>();
  silent.on('connection', (s) => sockets.add(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const conn = connectAsDevice({ url, key: generateDeviceKey(), handshakeTimeoutMs: 200 });
  try {
    const err = await conn.call(conn.client.sessions.ensure.mutate({ name: 'main' })).catch((e: unknown) => e);
    expect(AppError.is(err) && err.code).toBe('NOT_FOUND');
    expect((err as Error).message).toBe(`lost the connection to the gateway at ${url}`);
    expect(sockets.size).toBeGreaterThanOrEqual(3);
  } finally {
    await conn.close();
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
});
