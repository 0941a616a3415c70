/**
 * One running app per user. A second launch (say, the OS opening an
 * `autoclaw://` link on Windows or Linux) hands its link to the first
 * instance and quits; the first brings its window forward and handles the
 * link. macOS delivers links to the running app as 'open-url' instead.
 * Links are passed on raw: deep-link.ts validates them.
 */
import type { App } from 'electron';
import { findDeepLinkInArgv } from './deep-link';

interface CancellableEvent {
  preventDefault(): void;
}

export interface SingleInstanceAppPort extends Pick<App, 'requestSingleInstanceLock' | 'quit'> {
  on(
    event: 'second-instance',
    listener: (event: CancellableEvent, argv: string[], workingDirectory: string, additionalData: unknown) => void,
  ): unknown;
  on(event: 'open-url', listener: (event: CancellableEvent, url: string) => void): unknown;
}

export interface SingleInstanceOptions {
  app: SingleInstanceAppPort;
  /** This process's argv. */
  argv: readonly string[];
  /** Brings the existing window to the front. */
  focus: () => void;
  /** A link from another launch or from the OS (not yet validated). */
  handleLink: (raw: string) => void;
}

/** What a second instance sends the first (requestSingleInstanceLock's additionalData). */
interface LaunchData {
  deepLink: string | null;
}

function linkFrom(additionalData: unknown, argv: readonly string[]): string | null {
  if (typeof additionalData === 'object' && additionalData !== null && 'deepLink' in additionalData) {
    const { deepLink } = additionalData;
    if (typeof deepLink === 'string') return deepLink;
  }
  // Chromium may reorder argv on Windows, so additionalData comes first; argv is the fallback.
  return findDeepLinkInArgv(argv);
}

/**
 * Claims the lock. Returns false in a second instance, which has already
 * handed over its link and asked to quit; the caller must do nothing more.
 */
export function claimSingleInstance(options: SingleInstanceOptions): boolean {
  const data: LaunchData = { deepLink: findDeepLinkInArgv(options.argv) };
  if (!options.app.requestSingleInstanceLock({ ...data })) {
    options.app.quit();
    return false;
  }
  options.app.on('second-instance', (_event, argv, _cwd, additionalData) => {
    options.focus();
    const link = linkFrom(additionalData, argv);
    if (link !== null) options.handleLink(link);
  });
  options.app.on('open-url', (event, url) => {
    event.preventDefault();
    options.focus();
    options.handleLink(url);
  });
  return true;
}
