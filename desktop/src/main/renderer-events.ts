/**
 * Events main pushes to the page (deep links, notification clicks, the tray's
 * sign-out). Until the page's preload says it is listening (takeEvents), they
 * wait in a short queue, so a link that launched the app is not lost while
 * the page loads; a reload starts the wait again.
 */
import type { RendererEvent } from '../preload/ipc-channels';

export interface RendererEvents {
  /** Sends now, or queues until the page listens; `live` events (progress) are only sent, never queued. */
  dispatch(event: RendererEvent, o?: { live?: boolean }): void;
  /** The page is listening: returns what waited, and sends from now on. */
  take(): RendererEvent[];
  /** The page is going away (navigation, reload, crash): queue again. */
  detach(): void;
}

export function createRendererEvents(options: { send: (event: RendererEvent) => void; maxQueued?: number }): RendererEvents {
  const max = options.maxQueued ?? 20;
  let queue: RendererEvent[] = [];
  let listening = false;
  return {
    dispatch(event, o = {}) {
      if (listening) {
        options.send(event);
        return;
      }
      if (o.live) return;
      // Keep the newest: an old link is less likely to still matter.
      queue = [...queue, event].slice(-max);
    },
    take() {
      listening = true;
      const waiting = queue;
      queue = [];
      return waiting;
    },
    detach() {
      listening = false;
    },
  };
}
