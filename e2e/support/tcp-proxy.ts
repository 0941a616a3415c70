/**
 * A TCP proxy between the browser and the gateway that the test can cut.
 * `severSockets()` destroys the live WebSocket connections (the browser sees
 * the socket die mid-stream, like a network drop) and `blockSockets(true)`
 * refuses new WebSocket upgrades while plain HTTP keeps working, so the page
 * can still be reloaded while "offline".
 */
import { createServer, createConnection, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  readonly origin: string;
  setTarget(port: number): void;
  severSockets(): void;
  blockSockets(blocked: boolean): void;
  /** How many WebSocket connections are open now. */
  readonly liveSockets: number;
  close(): Promise<void>;
}

const UPGRADE = /^upgrade:\s*websocket/im;

export async function startTcpProxy(): Promise<TcpProxy> {
  let targetPort = 0;
  let blocked = false;
  const all = new Set<Socket>();
  const webSockets = new Set<Socket>();

  const server: Server = createServer((client) => {
    all.add(client);
    client.once('close', () => all.delete(client));
    client.on('error', () => client.destroy());
    // Look at the first bytes to tell a WebSocket upgrade from plain HTTP.
    client.once('data', (first: Buffer) => {
      const isWebSocket = UPGRADE.test(first.subarray(0, 4096).toString('latin1'));
      if (isWebSocket && blocked) {
        client.destroy();
        return;
      }
      const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
      all.add(upstream);
      if (isWebSocket) webSockets.add(client);
      const teardown = () => {
        client.destroy();
        upstream.destroy();
        webSockets.delete(client);
        all.delete(upstream);
      };
      upstream.on('error', teardown);
      upstream.on('close', teardown);
      client.on('close', teardown);
      upstream.write(first);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');

  return {
    port: address.port,
    origin: `http://127.0.0.1:${address.port}`,
    setTarget(port) {
      targetPort = port;
    },
    severSockets() {
      for (const socket of webSockets) socket.destroy();
      webSockets.clear();
    },
    blockSockets(value) {
      blocked = value;
    },
    get liveSockets() {
      return webSockets.size;
    },
    async close() {
      for (const socket of all) socket.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}
