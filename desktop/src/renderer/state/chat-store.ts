import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ChatEvent, Message } from '@autoclaw/shared';
import type { ClientErrorInfo } from '../lib/client-error';
import { EMPTY_CHAT, addIfMissing, applyChatEvent, removeMessage, type ChatState } from '../lib/chat-reducer';

export interface ChatStoreState {
  chats: Readonly<Record<string, ChatState>>;
  /** Why the event stream of a session failed (e.g. it was deleted elsewhere). */
  streamErrors: Readonly<Record<string, ClientErrorInfo | undefined>>;
  apply(sessionId: string, event: ChatEvent): void;
  /** The gateway acknowledged a sent message (shown until its event arrives, never overwriting it). */
  acknowledge(message: Message): void;
  removeMessage(sessionId: string, messageId: string): void;
  setStreamError(sessionId: string, error: ClientErrorInfo | null): void;
  forget(sessionId: string): void;
}

export function createChatStore(): StoreApi<ChatStoreState> {
  return createStore<ChatStoreState>()((set) => ({
    chats: {},
    streamErrors: {},
    apply(sessionId, event) {
      set((s) => ({ chats: { ...s.chats, [sessionId]: applyChatEvent(s.chats[sessionId] ?? EMPTY_CHAT, event) } }));
    },
    acknowledge(message) {
      set((s) => {
        const chat = s.chats[message.sessionId];
        return chat ? { chats: { ...s.chats, [message.sessionId]: addIfMissing(chat, message) } } : {};
      });
    },
    removeMessage(sessionId, messageId) {
      set((s) => {
        const chat = s.chats[sessionId];
        return chat ? { chats: { ...s.chats, [sessionId]: removeMessage(chat, messageId) } } : {};
      });
    },
    setStreamError(sessionId, error) {
      set((s) => ({ streamErrors: { ...s.streamErrors, [sessionId]: error ?? undefined } }));
    },
    forget(sessionId) {
      set((s) => {
        const { [sessionId]: _dropped, ...chats } = s.chats;
        return { chats };
      });
    },
  }));
}
