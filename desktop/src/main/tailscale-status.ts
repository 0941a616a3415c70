/**
 * This machine's Tailscale status for the renderer's `getTailscaleStatus()`:
 * read through the local tailscaled's LocalAPI by the server's plain reader
 * (the same code the gateway and manager use; esbuild bundles it into main,
 * it needs only Node built-ins). Concurrent calls share one request, and an
 * answer is reused for a moment, so a page that polls cannot flood tailscaled.
 */
import { readDesktopTailscaleStatus } from '../../../server/src/tailscale';
import type { TailscaleStatusInfo } from '../preload/api';

export interface TailscaleStatusOptions {
  /** tailscaled's socket (or Windows pipe); default: this platform's. */
  socketPath?: string;
  platform?: NodeJS.Platform;
  /** Where the macOS standalone app keeps its port and token (tests). */
  macsysDir?: string;
  /** How long an answer is reused (default 1 s). */
  cacheMs?: number;
  now?: () => number;
}

export interface TailscaleStatusReader {
  status(): Promise<TailscaleStatusInfo>;
}

export function createTailscaleStatusReader(opts: TailscaleStatusOptions = {}): TailscaleStatusReader {
  const now = opts.now ?? Date.now;
  const cacheMs = opts.cacheMs ?? 1_000;
  let last: { at: number; value: TailscaleStatusInfo } | null = null;
  let pending: Promise<TailscaleStatusInfo> | null = null;

  async function read(): Promise<TailscaleStatusInfo> {
    // The server's DesktopTailscaleStatus is assignable to the bridge's type: the compiler keeps the two in step.
    const value: TailscaleStatusInfo = await readDesktopTailscaleStatus({
      ...(opts.socketPath === undefined ? {} : { socketPath: opts.socketPath }),
      ...(opts.platform === undefined ? {} : { platform: opts.platform }),
      ...(opts.macsysDir === undefined ? {} : { macsysDir: opts.macsysDir }),
    });
    last = { at: now(), value };
    return value;
  }

  return {
    status() {
      if (last !== null && now() - last.at < cacheMs) return Promise.resolve(last.value);
      pending ??= read().finally(() => {
        pending = null;
      });
      return pending;
    },
  };
}
