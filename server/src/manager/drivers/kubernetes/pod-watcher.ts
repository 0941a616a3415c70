/**
 * A list-then-watch cache of the instances' pods (an informer, kept small):
 * list with the label selector, watch from the list's resourceVersion, keep
 * the last resourceVersion seen (BOOKMARK events included). When the stream
 * ends it re-watches from there; when the API server answers 410 Gone /
 * Expired (the version was compacted) it lists again. Failures back off
 * exponentially; `stop()` leaves no request or timer behind.
 */
import type { DriverLogger } from './options';

export type PodEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface PodLike {
  metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> };
}

export interface PodWatchSource<P extends PodLike> {
  list(): Promise<{ items: P[]; resourceVersion: string }>;
  /** Starts a watch; `onDone` is called once when it ends (err null for a clean end). */
  watch(resourceVersion: string, onEvent: (type: string, obj: unknown) => void, onDone: (err: unknown) => void): Promise<{ abort(): void }>;
}

export interface PodWatcherOptions<P extends PodLike> {
  source: PodWatchSource<P>;
  backoff?: { initialMs: number; maxMs: number };
  logger?: DriverLogger;
}

export type PodListener<P> = (type: PodEventType, pod: P) => void;

function isGone(obj: unknown): boolean {
  const o = obj as { code?: unknown; statusCode?: unknown; reason?: unknown } | null;
  return o !== null && typeof o === 'object' && (o.code === 410 || o.statusCode === 410 || o.reason === 'Expired' || o.reason === 'Gone');
}

export class PodWatcher<P extends PodLike> {
  private readonly pods = new Map<string, P>();
  private readonly listeners = new Set<PodListener<P>>();
  private resourceVersion = '';
  private stopped = true;
  private current: { abort(): void } | null = null;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private synced = false;
  /** Counters tests and metrics read. */
  readonly stats = { lists: 0, watches: 0, relistsAfterGone: 0, rewatches: 0 };

  constructor(private readonly opts: PodWatcherOptions<P>) {}

  get isSynced(): boolean {
    return this.synced;
  }

  get(name: string): P | undefined {
    return this.pods.get(name);
  }

  onEvent(listener: PodListener<P>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves after the first successful list (later failures retry in the background). */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    await this.relist();
  }

  stop(): void {
    this.stopped = true;
    this.synced = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.current?.abort();
    this.current = null;
  }

  private emit(type: PodEventType, pod: P): void {
    for (const l of this.listeners) {
      try {
        l(type, pod);
      } catch (err) {
        this.opts.logger?.warn('pod listener failed', { err });
      }
    }
  }

  private delay(): number {
    const { initialMs, maxMs } = this.opts.backoff ?? { initialMs: 250, maxMs: 10_000 };
    return Math.min(maxMs, initialMs * 2 ** Math.max(0, this.failures - 1));
  }

  private schedule(fn: () => Promise<void>, ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      fn().catch((err: unknown) => this.opts.logger?.error('pod watch step failed', { err }));
    }, ms);
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    this.stats.lists++;
    let listed: { items: P[]; resourceVersion: string };
    try {
      listed = await this.opts.source.list();
    } catch (err) {
      this.failures++;
      this.opts.logger?.warn('listing pods failed; retrying', { err, inMs: this.delay() });
      this.schedule(() => this.relist(), this.delay());
      return;
    }
    if (this.stopped) return;
    const seen = new Set<string>();
    for (const pod of listed.items) {
      const name = pod.metadata?.name;
      if (!name) continue;
      seen.add(name);
      const before = this.pods.get(name);
      this.pods.set(name, pod);
      if (!before) this.emit('ADDED', pod);
      else if (before.metadata?.resourceVersion !== pod.metadata?.resourceVersion) this.emit('MODIFIED', pod);
    }
    for (const [name, pod] of [...this.pods]) {
      if (!seen.has(name)) {
        this.pods.delete(name);
        this.emit('DELETED', pod);
      }
    }
    this.resourceVersion = listed.resourceVersion;
    this.synced = true;
    await this.watch();
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    this.stats.watches++;
    const startedAt = Date.now();
    let gone = false;
    let ended = false;
    const onEvent = (type: string, obj: unknown): void => {
      if (this.stopped || ended) return;
      if (type === 'ERROR') {
        if (isGone(obj)) gone = true;
        this.opts.logger?.warn('pod watch error event', { reason: (obj as { reason?: unknown } | null)?.reason });
        handle?.abort();
        return;
      }
      const pod = obj as P;
      const rv = pod.metadata?.resourceVersion;
      if (rv) this.resourceVersion = rv;
      if (type === 'BOOKMARK') return;
      const name = pod.metadata?.name;
      if (!name || (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED')) return;
      if (type === 'DELETED') this.pods.delete(name);
      else this.pods.set(name, pod);
      this.failures = 0;
      this.emit(type, pod);
    };
    const onDone = (err: unknown): void => {
      if (ended) return;
      ended = true;
      if (this.current === handle) this.current = null;
      if (this.stopped) return;
      if (gone || isGone(err)) {
        this.stats.relistsAfterGone++;
        this.opts.logger?.info('pod watch expired (410); listing again');
        this.failures = 0;
        this.schedule(() => this.relist(), 0);
        return;
      }
      if (err) this.failures++;
      else if (Date.now() - startedAt < 1000) this.failures++; // a server that keeps closing at once: back off
      else this.failures = 0;
      this.stats.rewatches++;
      this.schedule(() => this.watch(), this.failures === 0 ? 0 : this.delay());
    };
    let handle: { abort(): void } | null = null;
    try {
      handle = await this.opts.source.watch(this.resourceVersion, onEvent, onDone);
    } catch (err) {
      onDone(err);
      return;
    }
    if (this.stopped || ended) handle.abort();
    else this.current = handle;
  }
}
