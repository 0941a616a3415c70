/**
 * @mattermost/client's WebSocketClient is written for the WHATWG WebSocket
 * global (it reads `WebSocket.OPEN` before every send and makes
 * `CloseEvent`s). Node has both from version 22; on Node 20 they are
 * supplied here from `ws` — only where missing, so newer Nodes keep theirs.
 */
import { WebSocket } from 'ws';

class NodeCloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;

  constructor(type: string, init: { code?: number; reason?: string; wasClean?: boolean } = {}) {
    super(type);
    this.code = init.code ?? 0;
    this.reason = init.reason ?? '';
    this.wasClean = init.wasClean ?? false;
  }
}

export function ensureWebSocketGlobals(): void {
  const g = globalThis as { WebSocket?: unknown; CloseEvent?: unknown };
  g.WebSocket ??= WebSocket;
  g.CloseEvent ??= NodeCloseEvent;
}
