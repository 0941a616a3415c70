/**
 * The bundles build/build-desktop.mjs makes. A sandboxed preload may require
 * only 'electron', so its bundle is run here in a bare VM context whose
 * require knows nothing else, with test doubles of contextBridge and
 * ipcRenderer: it must expose the named capabilities under `autoclaw` and
 * nothing that reaches ipcRenderer.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createContext, runInContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_CHANNEL, IPC_CHANNELS } from '../preload/ipc-channels';


const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
let out: string;

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'autoclaw-desktop-bundle-'));
  execFileSync(process.execPath, [join(root, 'build', 'build-desktop.mjs'), '--outdir', out], { stdio: 'pipe' });
}, 60_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

function requires(bundle: string): string[] {
  return [...new Set([...bundle.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((match) => match[1] ?? ''))].sort();
}

describe('desktop bundles', () => {
  it('main requires only electron and Node built-ins', () => {
    const modules = requires(readFileSync(join(out, 'main', 'main.cjs'), 'utf8'));
    expect(modules).toContain('electron');
    // Bundled packages (electron-updater) name built-ins without the node: prefix.
    expect(modules.filter((name) => name !== 'electron' && !name.startsWith('node:') && !builtinModules.includes(name))).toEqual([]);
  });

  it('the preload requires only electron', () => {
    expect(requires(readFileSync(join(out, 'preload', 'preload.cjs'), 'utf8'))).toEqual(['electron']);
  });

  it('the preload exposes only named capabilities in a sandbox-like context', async () => {
    const exposed: Array<[string, unknown]> = [];
    const invoked: Array<[string, unknown[]]> = [];
    const subscribed: string[] = [];
    const electron = {
      contextBridge: { exposeInMainWorld: (key: string, api: unknown) => void exposed.push([key, api]) },
      ipcRenderer: {
        invoke: async (channel: string, ...args: unknown[]) => {
          invoked.push([channel, args]);
          return channel === IPC_CHANNELS.getAppInfo
            ? { ok: true, value: { version: '0.1.0', managerUrl: null } }
            : { ok: true, value: [] };
        },
        on: (channel: string) => void subscribed.push(channel),
      },
    };
    const module = { exports: {} };
    const context = createContext({
      module,
      exports: module.exports,
      process: { platform: 'linux' },
      require: (name: string) => {
        if (name !== 'electron') throw new Error(`a sandboxed preload cannot require ${name}`);
        return electron;
      },
    });
    runInContext(readFileSync(join(out, 'preload', 'preload.cjs'), 'utf8'), context);

    expect(exposed.map(([key]) => key)).toEqual(['autoclaw']);
    const api = exposed[0]?.[1] as Record<string, unknown>;
    expect(Object.keys(api).sort()).toEqual([
      'checkForUpdates',
      'downloadUpdate',
      'getAppInfo',
      'getDeviceIdentity',
      'getTailscaleStatus',
      'getUpdateState',
      'notifyAnswer',
      'notifyNotice',
      'onDeepLink',
      'onSignOutRequest',
      'onUpdateState',
      'openCheckout',
      'platform',
      'restartToUpdate',
      'setUnreadCount',
      'signChallenge',
    ]);
    expect(api.platform).toBe('linux');
    for (const [key, value] of Object.entries(api)) {
      if (key !== 'platform') expect(typeof value, key).toBe('function');
    }
    expect(subscribed).toEqual([EVENT_CHANNEL]);
    expect(invoked).toEqual([[IPC_CHANNELS.takeEvents, []]]);
    const getAppInfo = api.getAppInfo as () => Promise<unknown>;
    expect(await getAppInfo()).toEqual({ version: '0.1.0', managerUrl: null });
    expect(invoked.map(([channel]) => channel)).toEqual([IPC_CHANNELS.takeEvents, IPC_CHANNELS.getAppInfo]);
  });
});
