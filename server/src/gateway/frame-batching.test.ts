import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { batchFrames } from './frame-batching';

/** A ws server whose sockets batch frames, and a count of the socket writes (system calls) each makes. */
async function serve(batch: boolean) {
  const http: Server = createServer();
  const wss = new WebSocketServer({ server: http });
  const writes: number[] = [];
  const connected = new Promise<WebSocket>((resolve) =>
    wss.on('connection', (ws, req) => {
      const socket = req.socket as Socket & { _writeGeneric: (...a: unknown[]) => unknown };
      // Node's net.Socket funnels write and writev into _writeGeneric: one call per system call.
      const writeGeneric = socket._writeGeneric.bind(socket);
      writes.push(0);
      const i = writes.length - 1;
      socket._writeGeneric = (...a: unknown[]) => {
        writes[i] = (writes[i] ?? 0) + 1;
        return writeGeneric(...a);
      };
      if (batch) batchFrames(ws, socket);
      resolve(ws);
    }),
  );
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
  const received: string[] = [];
  client.on('message', (d) => received.push(String(d)));
  const ws = await connected;
  await once(client, 'open');
  return {
    ws,
    writes,
    received,
    close: async () => {
      client.close();
      wss.close();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

const until = async (ok: () => boolean) => {
  while (!ok()) await new Promise((r) => setTimeout(r, 5));
};

describe('batchFrames', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => close?.());

  it('sends the frames of one loop turn in one write, in order', async () => {
    const s = await serve(true);
    close = s.close;
    s.ws.send('a');
    await Promise.resolve();
    s.ws.send('b');
    await new Promise<void>((r) => process.nextTick(r));
    s.ws.send('c');
    await until(() => s.received.length === 3);
    expect(s.received).toEqual(['a', 'b', 'c']);
    expect(s.writes[0]).toBe(1);
    // The next loop turn is a new batch.
    s.ws.send('d');
    await until(() => s.received.length === 4);
    expect(s.writes[0]).toBe(2);
  });

  it('without it, every frame is its own write', async () => {
    const s = await serve(false);
    close = s.close;
    s.ws.send('a');
    s.ws.send('b');
    s.ws.send('c');
    await until(() => s.received.length === 3);
    expect(s.writes[0]).toBe(3);
  });

  it('leaves a socket destroyed meanwhile alone', async () => {
    const s = await serve(true);
    close = s.close;
    s.ws.send('a');
    s.ws.terminate();
    await new Promise((r) => setImmediate(r));
    expect(s.received.length).toBeLessThanOrEqual(1);
  });
});
