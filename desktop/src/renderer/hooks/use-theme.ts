import { useEffect } from 'react';
import { useUi } from '../state/services';

/** Mirrors the theme choice onto <html data-theme>; "system" follows prefers-color-scheme in CSS. */
export function useThemeAttribute(): void {
  const theme = useUi((s) => s.theme);
  useEffect(() => {
    const root = document.documentElement;
    if (theme === 'system') root.removeAttribute('data-theme');
    else root.setAttribute('data-theme', theme);
  }, [theme]);
}
