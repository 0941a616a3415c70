/**
 * Listens a wire server on 127.0.0.1 (port 0), optionally with a WebSocket
 * endpoint under `path`, tracking every socket so `close()` leaves nothing
 * open (hanging long polls and live WebSockets included).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { WebSocket, WebSocketServer } from 'ws';

export interface LocalListener {
  port: number;
  close(): Promise<void>;
}

export async function listenLocal(server: Server, ws?: { wss: WebSocketServer; path: string; onSocket: (socket: WebSocket, req: IncomingMessage) => void }): Promise<LocalListener> {
  const sockets = new Set<Socket>();
  if (ws) {
    server.on('upgrade', (req, socket, head) => {
      if (!(req.url ?? '').startsWith(ws.path)) return socket.destroy();
      ws.wss.handleUpgrade(req, socket, head, (client) => ws.onSocket(client, req));
    });
  }
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      if (ws) {
        for (const client of ws.wss.clients) client.terminate();
        ws.wss.close();
      }
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
