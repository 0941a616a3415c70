import type { ErrorInfo } from '@autoclaw/shared';
import { toBase64Url } from './base64url';

/** A message the user sent that the gateway has not acknowledged yet. */
export interface OutboxItem {
  clientId: string;
  /** null: "the default session", resolved when first sent (sessions.ensure is idempotent). */
  sessionId: string | null;
  text: string;
  createdAt: number;
  /** Set when the gateway refused the message for good; it then waits for the user. */
  error: ErrorInfo | null;
}

export type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem'>;

export const OUTBOX_STORAGE_KEY = 'autoclaw.outbox.v1';

/** 16 random bytes → 22 url-safe characters; the gateway dedupes on it. */
export function newClientId(random: (bytes: Uint8Array) => Uint8Array): string {
  return toBase64Url(random(new Uint8Array(16)));
}

function isItem(value: unknown): value is OutboxItem {
  if (typeof value !== 'object' || value === null) return false;
  const item = value as Record<string, unknown>;
  return (
    typeof item.clientId === 'string' &&
    (typeof item.sessionId === 'string' || item.sessionId === null) &&
    typeof item.text === 'string' &&
    typeof item.createdAt === 'number'
  );
}

/**
 * The outbox lives in localStorage so that what the user typed survives a
 * reload or a crash of the tab; it is the only copy until the gateway
 * acknowledges (after its commit). Snapshots are immutable so React can
 * subscribe with useSyncExternalStore.
 */
export class Outbox {
  private snapshot: readonly OutboxItem[];
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly storage: KeyValueStorage,
    private readonly key: string = OUTBOX_STORAGE_KEY,
  ) {
    this.snapshot = this.read();
  }

  items(): readonly OutboxItem[] {
    return this.snapshot;
  }

  /** The items the sender should still try, oldest first. */
  pending(): readonly OutboxItem[] {
    return this.snapshot.filter((item) => item.error === null);
  }

  add(item: OutboxItem): void {
    if (this.snapshot.some((i) => i.clientId === item.clientId)) return;
    this.write([...this.snapshot, item]);
  }

  remove(clientId: string): void {
    if (!this.snapshot.some((i) => i.clientId === clientId)) return;
    this.write(this.snapshot.filter((i) => i.clientId !== clientId));
  }

  update(clientId: string, patch: Partial<Omit<OutboxItem, 'clientId'>>): void {
    this.write(this.snapshot.map((i) => (i.clientId === clientId ? { ...i, ...patch } : i)));
  }

  /** Gives items for the default session their real session id. */
  assignDefaultSession(sessionId: string): void {
    if (!this.snapshot.some((i) => i.sessionId === null)) return;
    this.write(this.snapshot.map((i) => (i.sessionId === null ? { ...i, sessionId } : i)));
  }

  /** Re-reads storage (another tab changed it). */
  reload(): void {
    this.snapshot = this.read();
    this.emit();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private read(): readonly OutboxItem[] {
    try {
      const parsed: unknown = JSON.parse(this.storage.getItem(this.key) ?? '[]');
      if (!Array.isArray(parsed)) return [];
      return parsed.filter(isItem).map((item) => ({ ...item, error: item.error ?? null }));
    } catch {
      return [];
    }
  }

  private write(items: readonly OutboxItem[]): void {
    // Persist first: an item the user saw as "sending…" must survive a reload.
    this.storage.setItem(this.key, JSON.stringify(items));
    this.snapshot = items;
    this.emit();
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}
