/**
 * The desktop app's configuration, parsed once at start from its command line
 * and environment (nothing else reads process.env):
 *   --manager-url=URL   or AUTOCLAW_MANAGER_URL   where the manager is (https, or http on loopback)
 *   --hidden                                      start in the tray (launch at login)
 *   --update-feed=URL   or AUTOCLAW_UPDATE_FEED_URL   the generic feed the app updates itself from (https, or http on loopback)
 * A deep link can never set any of these.
 */
import { AppError } from '@autoclaw/shared';

export interface DesktopConfig {
  /** The manager's base URL, or null when the user has not configured one. */
  managerUrl: string | null;
  /** Extra CSP connect-src entries (the manager's origin). */
  connectSources: string[];
  startHidden: boolean;
  /** The self-update feed (latest.yml and artifacts), or null: the app does not update itself. */
  updateFeedUrl: string | null;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

function option(argv: readonly string[], name: string): string | null {
  const prefix = `--${name}=`;
  const found = argv.find((arg) => arg.startsWith(prefix));
  return found === undefined ? null : found.slice(prefix.length);
}

/** Validates a manager URL: https anywhere, plain http only on loopback; returns its origin form. */
export function parseManagerUrl(raw: string, what = 'manager URL'): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('BAD_REQUEST', `${what} is not a URL`);
  }
  const secure = url.protocol === 'https:';
  if (!secure && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new AppError('BAD_REQUEST', `${what} must be https (or http on 127.0.0.1/localhost)`);
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new AppError('BAD_REQUEST', `${what} must not carry credentials, a query or a fragment`);
  }
  return url;
}

export function parseDesktopConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): DesktopConfig {
  const raw = option(argv, 'manager-url') ?? env.AUTOCLAW_MANAGER_URL ?? null;
  const manager = raw === null || raw === '' ? null : parseManagerUrl(raw);
  const feed = option(argv, 'update-feed') ?? env.AUTOCLAW_UPDATE_FEED_URL ?? null;
  const connectSources: string[] = [];
  if (manager !== null) {
    const socket = manager.protocol === 'https:' ? 'wss:' : 'ws:';
    connectSources.push(manager.origin, `${socket}//${manager.host}`);
  }
  return {
    managerUrl: manager === null ? null : manager.href.replace(/\/$/, ''),
    connectSources,
    startHidden: argv.includes('--hidden'),
    updateFeedUrl: feed === null || feed === '' ? null : parseManagerUrl(feed, 'update feed URL').href.replace(/\/$/, ''),
  };
}
