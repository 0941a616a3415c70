/**
 * The outbound queue's door: what channel delivery puts in it. Every row is
 * stored before it is sent (SQLite), keyed so that the same answer is never
 * queued twice; a running channel's worker (outbox-worker.ts) sends them.
 */
import type { Message } from '@autoclaw/shared';
import type { Store } from '../store';
import type { ApprovalPrompt, ConversationRef, OutboundText } from './types';

export type OutboundPayload =
  | { kind: 'text'; route: ConversationRef; text: string; replyTo?: string }
  | { kind: 'final'; route: ConversationRef; messageId: string; text: string; replyTo?: string }
  | { kind: 'approval'; route: ConversationRef; prompt: ApprovalPrompt }
  | { kind: 'file'; route: ConversationRef; path: string; name: string; mimeType: string };

export interface ChannelOutbox {
  enqueueText(channel: string, sessionId: string | null, key: string, route: string, text: OutboundText): void;
  /** The answer as it ended (again, when its text changed since it was queued). */
  enqueueFinal(channel: string, sessionId: string, route: string, message: Message, replyTo: string | null): void;
  enqueueApproval(channel: string, sessionId: string, route: string, prompt: ApprovalPrompt): void;
  enqueueFile(channel: string, sessionId: string, route: string, key: string, file: { path: string; name: string; mimeType: string }): void;
  /** The channel's worker, while it runs, hears of new rows through this. */
  setWaker(channel: string, wake: (() => void) | null): void;
}

export function createOutbox(store: Store): ChannelOutbox {
  const wakers = new Map<string, () => void>();
  const put = (channel: string, sessionId: string | null, key: string, version: string, payload: OutboundPayload) => {
    if (store.enqueueOutbound({ key, channel, sessionId, kind: payload.kind, payload: JSON.stringify(payload), version })) wakers.get(channel)?.();
  };
  const parse = (route: string) => JSON.parse(route) as ConversationRef;

  return {
    enqueueText(channel, sessionId, key, route, text) {
      put(channel, sessionId, key, '1', { kind: 'text', route: parse(route), text: text.text, ...(text.replyTo ? { replyTo: text.replyTo } : {}) });
    },
    enqueueFinal(channel, sessionId, route, message, replyTo) {
      put(channel, sessionId, `final:${message.id}`, String(message.updatedAt), {
        kind: 'final',
        route: parse(route),
        messageId: message.id,
        text: message.text,
        ...(replyTo ? { replyTo } : {}),
      });
    },
    enqueueApproval(channel, sessionId, route, prompt) {
      put(channel, sessionId, `approval:${prompt.toolCallId}`, '1', { kind: 'approval', route: parse(route), prompt });
    },
    enqueueFile(channel, sessionId, route, key, file) {
      put(channel, sessionId, `file:${key}`, '1', { kind: 'file', route: parse(route), ...file });
    },
    setWaker(channel, wake) {
      if (wake) wakers.set(channel, wake);
      else wakers.delete(channel);
    },
  };
}
