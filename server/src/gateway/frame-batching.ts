/**
 * Frames a socket sends within one turn of the event loop leave in one
 * write. Every `ws.send` is otherwise its own `writev` on the TCP socket, and
 * a streamed turn sends several frames (the acknowledgement, message
 * updates, deltas, the final status): a profile of 400 turns found ~15% of
 * the gateway's CPU in those system calls. The socket is corked at the first
 * send of a loop turn and uncorked in `setImmediate`, after the loop's I/O
 * callbacks and promise jobs ran; frames keep their order and no frame waits
 * longer than that one loop turn.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

export function batchFrames(ws: WebSocket, socket: Socket): void {
  let corked = false;
  const flush = (): void => {
    corked = false;
    if (!socket.destroyed) socket.uncork();
  };
  const send = ws.send.bind(ws);
  ws.send = ((...args: Parameters<WebSocket['send']>) => {
    if (!corked && !socket.destroyed) {
      corked = true;
      socket.cork();
      setImmediate(flush);
    }
    return send(...args);
  }) as WebSocket['send'];
}
