import { createContext, useContext, type ReactNode } from 'react';
import { useStore, type StoreApi } from 'zustand';
import type { MarkdownRenderer } from '../lib/markdown';
import type { NoticeAlerts, NoticeCursor } from '../lib/notice-alerts';
import type { Outbox } from '../lib/outbox';
import type { ChatStoreState } from './chat-store';
import type { UiState } from './ui-store';

/** Everything long-lived the UI needs, made once in main.tsx and passed down (no module singletons). */
export interface AppServices {
  ui: StoreApi<UiState>;
  chats: StoreApi<ChatStoreState>;
  outbox: Outbox;
  markdown: MarkdownRenderer;
  now: () => number;
  /** The IANA time zone the user's days begin in (the browser's). */
  timeZone: () => string;
  newClientId: () => string;
  /** System notifications for gateway notices (desktop app or browser). */
  alerts: NoticeAlerts;
  /** The newest notice this page saw, to resume `notices.events` after a reload. */
  noticeCursor: NoticeCursor;
}

const ServicesContext = createContext<AppServices | null>(null);

export function ServicesProvider({ services, children }: { services: AppServices; children: ReactNode }) {
  return <ServicesContext.Provider value={services}>{children}</ServicesContext.Provider>;
}

export function useServices(): AppServices {
  const services = useContext(ServicesContext);
  if (!services) throw new Error('useServices outside ServicesProvider');
  return services;
}

export function useUi<T>(select: (state: UiState) => T): T {
  return useStore(useServices().ui, select);
}

export function useChats<T>(select: (state: ChatStoreState) => T): T {
  return useStore(useServices().chats, select);
}
