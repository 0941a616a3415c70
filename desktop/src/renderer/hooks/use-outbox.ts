import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { OutboxSender } from '../lib/outbox-sender';
import type { OutboxItem } from '../lib/outbox';
import { useConnectionStatus, useGateway } from '../state/gateway-context';
import { useServices } from '../state/services';

export function useOutboxItems(): readonly OutboxItem[] {
  const { outbox } = useServices();
  return useSyncExternalStore(outbox.subscribe, () => outbox.items());
}

/** The outbox items of one session (or of the default session while none exists). */
export function useSessionOutbox(sessionId: string | null): readonly OutboxItem[] {
  const items = useOutboxItems();
  return useMemo(() => items.filter((i) => i.sessionId === sessionId || (sessionId === null && i.sessionId === null)), [items, sessionId]);
}

/**
 * Sends the outbox whenever the connection is (back) online and whenever
 * something is added; another tab's changes arrive through `storage` events.
 */
export function useOutboxSender(onDefaultSession: (sessionId: string) => void): void {
  const client = useGateway();
  const status = useConnectionStatus();
  const { outbox, chats } = useServices();

  // Made in an effect, not a memo: a stopped sender stays stopped, and React
  // may run an effect's cleanup and the effect again (StrictMode, remounts).
  const [sender, setSender] = useState<OutboxSender | null>(null);
  useEffect(() => {
    const made = new OutboxSender({
      outbox,
      send: async (input) => {
        const { message } = await client.chat.send.mutate(input);
        chats.getState().acknowledge(message);
      },
      ensureDefaultSession: async () => {
        const session = await client.sessions.ensure.mutate({ name: 'main' });
        onDefaultSession(session.id);
        return session.id;
      },
      setTimer: (run, ms) => window.setTimeout(run, ms),
      clearTimer: (handle) => window.clearTimeout(handle as number),
    });
    setSender(made);
    return () => made.stop();
  }, [client, outbox, chats, onDefaultSession]);

  useEffect(() => {
    if (status !== 'online' || !sender) return;
    void sender.flush();
    return outbox.subscribe(() => void sender.flush());
  }, [sender, status, outbox]);

  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (event.key === null || event.key.startsWith('autoclaw.outbox')) outbox.reload();
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, [outbox]);
}
