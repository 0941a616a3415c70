import { createStore, type StoreApi } from 'zustand/vanilla';
import type { KeyValueStorage } from '../lib/outbox';

export type ThemeChoice = 'system' | 'light' | 'dark';
/** `instance`: the manager UI's instance page (status, controls, devices). */
export type View = 'chat' | 'skills' | 'channels' | 'costs' | 'settings' | 'instance' | 'billing';

export interface UiState {
  theme: ThemeChoice;
  view: View;
  activeSessionId: string | null;
  /** Set when the Costs page should open at its budget settings (a refused answer's button); cleared once shown. */
  costsFocus: 'budget' | null;
  setTheme(theme: ThemeChoice): void;
  openBudget(): void;
  clearCostsFocus(): void;
  setView(view: View): void;
  selectSession(sessionId: string | null): void;
}

const THEME_KEY = 'autoclaw.theme';
const SESSION_KEY = 'autoclaw.activeSession';

function readTheme(storage: KeyValueStorage): ThemeChoice {
  const value = storage.getItem(THEME_KEY);
  return value === 'light' || value === 'dark' ? value : 'system';
}

/** UI choices that survive a reload: theme and the open conversation. */
export function createUiStore(storage: KeyValueStorage): StoreApi<UiState> {
  return createStore<UiState>()((set) => ({
    theme: readTheme(storage),
    view: 'chat',
    activeSessionId: storage.getItem(SESSION_KEY) || null,
    costsFocus: null,
    openBudget() {
      set({ view: 'costs', costsFocus: 'budget' });
    },
    clearCostsFocus() {
      set({ costsFocus: null });
    },
    setTheme(theme) {
      storage.setItem(THEME_KEY, theme);
      set({ theme });
    },
    setView(view) {
      set({ view });
    },
    selectSession(sessionId) {
      storage.setItem(SESSION_KEY, sessionId ?? '');
      set({ activeSessionId: sessionId, view: 'chat' });
    },
  }));
}
