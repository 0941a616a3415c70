import type { ThemeChoice, View } from '../state/ui-store';
import { useUi } from '../state/services';
import { ConnectionBanner } from './connection-banner';

const VIEWS: Array<{ view: View; label: string }> = [
  { view: 'chat', label: 'Chat' },
  { view: 'settings', label: 'Settings' },
];

export function AppHeader() {
  const view = useUi((s) => s.view);
  const setView = useUi((s) => s.setView);
  const theme = useUi((s) => s.theme);
  const setTheme = useUi((s) => s.setTheme);
  return (
    <header className="app-header">
      <span className="brand">AutoClaw</span>
      <nav aria-label="Main" className="main-nav">
        {VIEWS.map((v) => (
          <button key={v.view} type="button" aria-current={view === v.view ? 'page' : undefined} onClick={() => setView(v.view)}>
            {v.label}
          </button>
        ))}
      </nav>
      <ConnectionBanner />
      <label className="theme-picker">
        <span className="visually-hidden">Theme</span>
        <select aria-label="Theme" value={theme} onChange={(e) => setTheme(e.target.value as ThemeChoice)}>
          <option value="system">System theme</option>
          <option value="light">Light</option>
          <option value="dark">Dark</option>
        </select>
      </label>
    </header>
  );
}
