import type { ReactNode } from 'react';
import type { ThemeChoice, View } from '../state/ui-store';
import { useUi } from '../state/services';

export interface NavItem {
  view: View;
  label: string;
}

export const WEBCHAT_VIEWS: readonly NavItem[] = [
  { view: 'chat', label: 'Chat' },
  { view: 'skills', label: 'Skills' },
  { view: 'costs', label: 'Costs' },
  { view: 'channels', label: 'Channels' },
  { view: 'settings', label: 'Settings' },
];

interface AppHeaderProps {
  views?: readonly NavItem[];
  /** The connection banner (only inside a GatewayProvider). */
  status?: ReactNode;
  /** Right-hand side extras (the manager UI's account menu). */
  end?: ReactNode;
  /** The view shown as current (default: the UI store's). */
  current?: View;
}

export function AppHeader({ views = WEBCHAT_VIEWS, status = null, end = null, current }: AppHeaderProps) {
  const storeView = useUi((s) => s.view);
  const view = current ?? storeView;
  const setView = useUi((s) => s.setView);
  const theme = useUi((s) => s.theme);
  const setTheme = useUi((s) => s.setTheme);
  return (
    <header className="app-header">
      <span className="brand">AutoClaw</span>
      <nav aria-label="Main" className="main-nav">
        {views.map((v) => (
          <button key={v.view} type="button" aria-current={view === v.view ? 'page' : undefined} onClick={() => setView(v.view)}>
            {v.label}
          </button>
        ))}
      </nav>
      {status}
      <label className="theme-picker">
        <span className="visually-hidden">Theme</span>
        <select aria-label="Theme" value={theme} onChange={(e) => setTheme(e.target.value as ThemeChoice)}>
          <option value="system">Theme: system</option>
          <option value="light">Theme: light</option>
          <option value="dark">Theme: dark</option>
        </select>
      </label>
      {end}
    </header>
  );
}
