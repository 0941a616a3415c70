/**
 * Open, authenticated sockets by device id, so revoking a device closes its
 * connections at once.
 */
import type { WebSocket } from 'ws';

export interface SocketRegistry {
  add(deviceId: string, ws: WebSocket): void;
  remove(ws: WebSocket): void;
  /** Closes every socket of the device; returns how many. */
  closeDevice(deviceId: string, code: number, reason: string): number;
  count(deviceId?: string): number;
}

export function createSocketRegistry(): SocketRegistry {
  const byDevice = new Map<string, Set<WebSocket>>();
  const deviceOf = new Map<WebSocket, string>();

  return {
    add(deviceId, ws) {
      let set = byDevice.get(deviceId);
      if (!set) byDevice.set(deviceId, (set = new Set()));
      set.add(ws);
      deviceOf.set(ws, deviceId);
    },
    remove(ws) {
      const id = deviceOf.get(ws);
      if (id === undefined) return;
      deviceOf.delete(ws);
      const set = byDevice.get(id);
      set?.delete(ws);
      if (set?.size === 0) byDevice.delete(id);
    },
    closeDevice(deviceId, code, reason) {
      const set = byDevice.get(deviceId);
      if (!set) return 0;
      const sockets = [...set];
      for (const ws of sockets) ws.close(code, reason);
      return sockets.length;
    },
    count(deviceId) {
      if (deviceId !== undefined) return byDevice.get(deviceId)?.size ?? 0;
      return deviceOf.size;
    },
  };
}
