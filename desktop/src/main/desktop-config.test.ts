import { describe, expect, it } from 'vitest';
import { AppError } from '@autoclaw/shared';
import { rendererContentSecurityPolicy } from './app-protocol';
import { parseDesktopConfig } from './desktop-config';

describe('desktop config', () => {
  it('has no manager and shows the window by default', () => {
    expect(parseDesktopConfig(['/opt/AutoClaw/autoclaw'], {})).toEqual({ managerUrl: null, connectSources: [], startHidden: false, updateFeedUrl: null });
  });

  it('takes the manager from the command line before the environment', () => {
    const config = parseDesktopConfig(['/x', '--manager-url=https://manager.example.com/', '--hidden'], {
      AUTOCLAW_MANAGER_URL: 'https://other.example.com',
    });
    expect(config).toEqual({
      managerUrl: 'https://manager.example.com',
      connectSources: ['https://manager.example.com', 'wss://manager.example.com'],
      startHidden: true,
      updateFeedUrl: null,
    });
    // The sources are valid CSP host sources.
    expect(rendererContentSecurityPolicy(config.connectSources)).toContain('wss://manager.example.com');
    expect(parseDesktopConfig(['/x'], { AUTOCLAW_MANAGER_URL: 'http://127.0.0.1:7300' }).connectSources).toEqual([
      'http://127.0.0.1:7300',
      'ws://127.0.0.1:7300',
    ]);
  });

  it('takes the self-update feed from the command line before the environment, https or loopback only', () => {
    expect(parseDesktopConfig(['/x', '--update-feed=https://updates.example.com/autoclaw/'], { AUTOCLAW_UPDATE_FEED_URL: 'https://other.example.com' }).updateFeedUrl).toBe('https://updates.example.com/autoclaw');
    expect(parseDesktopConfig(['/x'], { AUTOCLAW_UPDATE_FEED_URL: 'http://127.0.0.1:8080/feed' }).updateFeedUrl).toBe('http://127.0.0.1:8080/feed');
    expect(() => parseDesktopConfig(['/x', '--update-feed=http://updates.example.com'], {})).toThrow(/update feed URL must be https/);
  });

  it('refuses insecure or odd manager URLs', () => {
    for (const raw of [
      'http://manager.example.com',
      'ftp://manager.example.com',
      'https://user:pw@manager.example.com',
      'https://manager.example.com/?x=1',
      'https://manager.example.com/#x',
      'javascript:alert(1)',
      'not a url',
    ]) {
      expect(() => parseDesktopConfig([`--manager-url=${raw}`], {}), raw).toThrow(AppError);
    }
  });
});
