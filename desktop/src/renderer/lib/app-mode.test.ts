import { describe, expect, it } from 'vitest';
import type { AutoClawDesktopApi } from '../../preload/api';
import { detectAppMode } from './app-mode';

const answer =
  (body: unknown, status = 200): typeof fetch =>
  async () =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

function desktopWith(managerUrl: string | null): AutoClawDesktopApi {
  // Only getAppInfo is read by detectAppMode; the rest must not be touched.
  const unused = () => {
    throw new Error('not used');
  };
  return {
    getAppInfo: async () => ({ version: '1.0.0', managerUrl }),
    getDeviceIdentity: unused,
    signChallenge: unused,
    notifyAnswer: unused,
    notifyNotice: unused,
    setUnreadCount: unused,
    onDeepLink: unused,
    onSignOutRequest: unused,
    getTailscaleStatus: unused,
    openCheckout: unused,
    getUpdateState: unused,
    checkForUpdates: unused,
    downloadUpdate: unused,
    restartToUpdate: unused,
    onUpdateState: unused,
    platform: 'linux',
  };
}

describe('detectAppMode', () => {
  it('is the manager UI when the page origin answers as the manager', async () => {
    const mode = await detectAppMode({ desktop: undefined, fetch: answer({ ok: true, service: 'autoclaw-manager' }), origin: 'http://127.0.0.1:1' });
    expect(mode).toEqual({ kind: 'manager', managerUrl: 'http://127.0.0.1:1', desktop: null });
  });

  it('is WebChat on a gateway, and when the health check fails', async () => {
    expect(await detectAppMode({ desktop: undefined, fetch: answer({ ok: true }), origin: 'http://127.0.0.1:1' })).toEqual({ kind: 'webchat' });
    expect(await detectAppMode({ desktop: undefined, fetch: answer({}, 503), origin: 'x' })).toEqual({ kind: 'webchat' });
    const offline: typeof fetch = async () => {
      throw new TypeError('Failed to fetch');
    };
    expect(await detectAppMode({ desktop: undefined, fetch: offline, origin: 'x' })).toEqual({ kind: 'webchat' });
  });

  it('in the desktop app, uses the configured manager and never the page', async () => {
    const desktop = desktopWith('https://manager.example.com/');
    const never: typeof fetch = async () => {
      throw new Error('must not fetch');
    };
    expect(await detectAppMode({ desktop, fetch: never, origin: 'app://autoclaw' })).toEqual({
      kind: 'manager',
      managerUrl: 'https://manager.example.com',
      desktop,
    });
    const unconfigured = await detectAppMode({ desktop: desktopWith(null), fetch: never, origin: 'app://autoclaw' });
    expect(unconfigured.kind).toBe('unconfigured');
  });
});
