/**
 * Which UI this page is: WebChat served by a standalone gateway (pairing
 * with a one-time code), or the manager's UI (sign in, instance, automatic
 * pairing) — served by the manager at its own origin or loaded by the
 * desktop app. The manager's address is the page's own origin or the
 * desktop app's configuration, never something a link can set.
 */
import type { AutoClawDesktopApi } from '../../preload/api';
import { serviceOrigin } from './service-url';

export type AppMode =
  | { kind: 'webchat' }
  | { kind: 'manager'; managerUrl: string; desktop: AutoClawDesktopApi | null }
  /** The desktop app was started without a manager URL. */
  | { kind: 'unconfigured'; message: string };

export interface ModeDeps {
  /** window.autoclaw: present only inside the desktop app. */
  desktop: AutoClawDesktopApi | undefined;
  fetch: typeof fetch;
  /** The page's own origin. */
  origin: string;
}

/** The manager answers /healthz with `service: "autoclaw-manager"`; a gateway does not. */
function isManagerHealth(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'service' in body && body.service === 'autoclaw-manager';
}

export async function detectAppMode({ desktop, fetch, origin }: ModeDeps): Promise<AppMode> {
  if (desktop) {
    const { managerUrl } = await desktop.getAppInfo();
    if (managerUrl === null) {
      return {
        kind: 'unconfigured',
        message: 'This app does not know your AutoClaw manager yet. Start it with --manager-url=https://… (or set AUTOCLAW_MANAGER_URL).',
      };
    }
    return { kind: 'manager', managerUrl: serviceOrigin(managerUrl, 'manager'), desktop };
  }
  try {
    const response = await fetch('/healthz', { cache: 'no-store', credentials: 'omit' });
    if (response.ok && isManagerHealth(await response.json())) return { kind: 'manager', managerUrl: origin, desktop: null };
  } catch {
    // Unreachable or not JSON: WebChat explains connection problems itself.
  }
  return { kind: 'webchat' };
}
