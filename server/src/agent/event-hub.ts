/**
 * The live event stream of every session. Each session keeps a bounded ring
 * of its recent events so a client that reconnects with its last event id gets
 * exactly what it missed; anyone else (or anyone too far behind) starts from a
 * `sync` snapshot. Event ids are `${bootId}.${counter}`, unique per gateway
 * boot, so an id from an earlier boot always leads to a snapshot.
 */
import type { ChatEvent } from '@autoclaw/shared';
import type { TrackedEvent } from './types';

export type SyncEvent = Extract<ChatEvent, { type: 'sync' }>;

export interface EventHubOptions {
  bootId: string;
  /** Builds the session's full state; throws (e.g. NOT_FOUND) when it cannot. Must be synchronous. */
  snapshot: (sessionId: string) => SyncEvent;
  now: () => number;
  /** Events kept per session for resuming (default 2000). */
  bufferSize?: number;
  /** A session's ring is dropped after this long without listeners or events (default 60 s). */
  idleMs?: number;
  /** Events a slow subscriber may lag behind before it is sent a fresh snapshot instead (default 5000). */
  maxLag?: number;
  /** Sees every event as it is emitted (the chat service's watchers: channel delivery). */
  tap?: (sessionId: string, event: ChatEvent) => void;
}

interface Subscriber {
  queue: TrackedEvent[];
  /** Index of the next event of `queue` to hand out. */
  next: number;
  wake: (() => void) | null;
  /** Set when the subscriber lagged too far or the session's history changed: send a snapshot next. */
  resync: boolean;
  closed: boolean;
}

class Channel {
  readonly counters: number[] = [];
  readonly events: TrackedEvent[] = [];
  /** Index of the oldest event in the ring. */
  head = 0;
  /** Events with a counter at or below this are no longer held: resuming from them needs a snapshot. */
  floor: number;
  readonly subscribers = new Set<Subscriber>();
  lastActive: number;

  constructor(floor: number, now: number, readonly capacity: number) {
    this.floor = floor;
    this.lastActive = now;
  }

  push(counter: number, tracked: TrackedEvent): void {
    if (this.events.length < this.capacity) {
      this.counters.push(counter);
      this.events.push(tracked);
      return;
    }
    this.floor = this.counters[this.head] ?? this.floor;
    this.counters[this.head] = counter;
    this.events[this.head] = tracked;
    this.head = (this.head + 1) % this.capacity;
  }

  /** Events after `counter`, oldest first. */
  after(counter: number): TrackedEvent[] {
    const out: TrackedEvent[] = [];
    const n = this.events.length;
    for (let i = 0; i < n; i++) {
      const at = (this.head + i) % n;
      if ((this.counters[at] ?? 0) > counter) out.push(this.events[at] as TrackedEvent);
    }
    return out;
  }

  clear(floor: number): void {
    this.counters.length = 0;
    this.events.length = 0;
    this.head = 0;
    this.floor = floor;
  }
}

export class EventHub {
  readonly #opts: Required<EventHubOptions>;
  readonly #channels = new Map<string, Channel>();
  #counter = 0;
  #closed = false;

  constructor(opts: EventHubOptions) {
    this.#opts = { bufferSize: 2000, idleMs: 60_000, maxLag: 5000, tap: () => {}, ...opts };
  }

  get bootId(): string {
    return this.#opts.bootId;
  }

  #channel(sessionId: string): Channel {
    let channel = this.#channels.get(sessionId);
    if (!channel) {
      channel = new Channel(this.#counter, this.#opts.now(), this.#opts.bufferSize);
      this.#channels.set(sessionId, channel);
    }
    return channel;
  }

  #nextId(): [number, string] {
    this.#counter += 1;
    return [this.#counter, `${this.#opts.bootId}.${this.#counter}`];
  }

  /** Publishes an event to the session's ring and its live subscribers. */
  emit(sessionId: string, event: ChatEvent): void {
    if (this.#closed) return;
    const channel = this.#channel(sessionId);
    const [counter, id] = this.#nextId();
    const tracked: TrackedEvent = { id, event };
    channel.push(counter, tracked);
    channel.lastActive = this.#opts.now();
    for (const sub of channel.subscribers) {
      if (sub.resync) continue;
      if (sub.queue.length - sub.next >= this.#opts.maxLag) {
        sub.queue.length = 0;
        sub.next = 0;
        sub.resync = true;
      } else {
        sub.queue.push(tracked);
      }
      sub.wake?.();
    }
    this.#opts.tap(sessionId, event);
  }

  /**
   * The session's history changed in a way events cannot express (a message
   * was deleted): nobody may resume across this point, live subscribers get a
   * fresh snapshot.
   */
  invalidate(sessionId: string): void {
    const channel = this.#channels.get(sessionId);
    if (!channel) return;
    channel.clear(this.#counter);
    for (const sub of channel.subscribers) {
      sub.queue.length = 0;
      sub.next = 0;
      sub.resync = true;
      sub.wake?.();
    }
  }

  /** Forgets a session (after `deleted` was emitted); its subscribers end once they drained. */
  drop(sessionId: string): void {
    const channel = this.#channels.get(sessionId);
    if (!channel) return;
    this.#channels.delete(sessionId);
    for (const sub of channel.subscribers) {
      sub.closed = true;
      sub.wake?.();
    }
  }

  /** Whether `lastEventId` can be resumed from in this session right now. */
  canResume(sessionId: string, lastEventId: string | null): boolean {
    const counter = this.#parse(lastEventId);
    if (counter === null) return false;
    const channel = this.#channels.get(sessionId);
    const floor = channel ? channel.floor : this.#counter;
    return counter >= floor && counter <= this.#counter;
  }

  #parse(lastEventId: string | null): number | null {
    if (!lastEventId) return null;
    const dot = lastEventId.lastIndexOf('.');
    if (dot <= 0 || lastEventId.slice(0, dot) !== this.#opts.bootId) return null;
    const n = Number(lastEventId.slice(dot + 1));
    return Number.isSafeInteger(n) && n >= 0 ? n : null;
  }

  #sync(sessionId: string): TrackedEvent {
    const event = this.#opts.snapshot(sessionId);
    const [, id] = this.#nextId();
    return { id, event };
  }

  async *subscribe(sessionId: string, lastEventId: string | null, signal: AbortSignal): AsyncGenerator<TrackedEvent> {
    if (signal.aborted || this.#closed) return;
    const sub: Subscriber = { queue: [], next: 0, wake: null, resync: false, closed: false };
    // Snapshot (or replay) and listener are taken together with no await between: no gap, no duplicate.
    const from = this.canResume(sessionId, lastEventId) ? this.#parse(lastEventId) : null;
    const first = from === null ? this.#sync(sessionId) : null;
    const channel = this.#channel(sessionId);
    channel.subscribers.add(sub);
    if (first) sub.queue.push(first);
    else sub.queue.push(...channel.after(from ?? 0));
    const onAbort = () => sub.wake?.();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signal.aborted) {
        if (sub.resync) {
          sub.resync = false;
          sub.queue.length = 0;
          sub.next = 0;
          sub.queue.push(this.#sync(sessionId));
        }
        if (sub.next < sub.queue.length) {
          const tracked = sub.queue[sub.next++] as TrackedEvent;
          if (sub.next === sub.queue.length || sub.next >= 256) {
            sub.queue.splice(0, sub.next);
            sub.next = 0;
          }
          yield tracked;
          if (tracked.event.type === 'deleted') return;
          continue;
        }
        if (sub.closed || this.#closed) return;
        await new Promise<void>((resolve) => {
          sub.wake = resolve;
        });
        sub.wake = null;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      channel.subscribers.delete(sub);
      channel.lastActive = this.#opts.now();
    }
  }

  /** Drops the rings of sessions nobody listens to and that were quiet for `idleMs`. */
  sweep(): number {
    const cutoff = this.#opts.now() - this.#opts.idleMs;
    let dropped = 0;
    for (const [id, channel] of this.#channels) {
      if (channel.subscribers.size === 0 && channel.lastActive <= cutoff) {
        this.#channels.delete(id);
        dropped += 1;
      }
    }
    return dropped;
  }

  /** Ends every subscription and stops accepting events. */
  close(): void {
    this.#closed = true;
    for (const channel of this.#channels.values()) {
      for (const sub of channel.subscribers) {
        sub.closed = true;
        sub.wake?.();
      }
    }
    this.#channels.clear();
  }

  /** Sizes, for tests and diagnostics. */
  stats(): { sessions: number; bufferedEvents: number; subscribers: number } {
    let bufferedEvents = 0;
    let subscribers = 0;
    for (const channel of this.#channels.values()) {
      bufferedEvents += channel.events.length;
      subscribers += channel.subscribers.size;
    }
    return { sessions: this.#channels.size, bufferedEvents, subscribers };
  }
}
