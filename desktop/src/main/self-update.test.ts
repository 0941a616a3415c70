/**
 * Self-update through the real electron-updater (its Linux AppImage
 * updater) against a local generic feed server (latest-linux.yml + the
 * artifact with its sha512), with a double of the app electron-updater
 * sees (version, paths, relaunch, quit): check → download with progress →
 * restart installs the new build on quit. A newer version that is not
 * there, a wrong sha512 and a dead feed each end in a clear state with
 * nothing installed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from 'electron';
import type { AppImageUpdater } from 'electron-updater';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSelfUpdate, whenLoaded } from './self-update';
import type { RelaunchPort, SelfUpdate, SelfUpdateState, UpdaterPort } from './self-update';
import { FakeApp, NEW_BUILD, installedApp, realUpdater, sha512, startFeed, type Feed } from './testing/update-feed';

let dir: string;
let feed: Feed | null = null;
let restoreEnv: () => void = () => undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'autoclaw-selfupdate-'));
  restoreEnv = installedApp(dir);
});
afterEach(async () => {
  await feed?.close();
  feed = null;
  restoreEnv();
  rmSync(dir, { recursive: true, force: true });
});

describe('desktop self-update from a generic feed', () => {
  it('checks, downloads with progress, and "restart to update" relaunches with the new build installed', async () => {
    feed = await startFeed({ version: '1.2.0', artifact: NEW_BUILD });
    const app = new FakeApp('1.1.0', dir);
    const states: SelfUpdateState[] = [];
    const self = createSelfUpdate({ updater: realUpdater(app), app, currentVersion: app.version, feedUrl: feed.url, onState: (s) => states.push(s) });
    expect(self.restart()).toBe(false);

    expect(await self.check()).toEqual({ kind: 'available', currentVersion: '1.1.0', version: '1.2.0' });
    expect(feed.hits).toContain('/feed/latest-linux.yml');
    const done = await self.download();
    expect(done).toEqual({ kind: 'ready', currentVersion: '1.1.0', version: '1.2.0' });
    const progress = states.filter((s) => s.kind === 'downloading');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.at(-1)).toMatchObject({ percent: 100, total: NEW_BUILD.length, transferred: NEW_BUILD.length });
    expect(states.map((s) => s.kind)).toEqual(['checking', 'available', ...progress.map(() => 'downloading'), 'ready']);
    expect(readFileSync(join(dir, 'AutoClaw.AppImage'), 'utf8')).toContain('old build');

    expect(self.restart()).toBe(true);
    expect([app.relaunched, app.quitted]).toEqual([1, 1]);
    // Installed on quit: the AppImage is now the downloaded build.
    expect(sha512(readFileSync(join(dir, 'AutoClaw.AppImage')))).toBe(sha512(NEW_BUILD));
  }, 30_000);

  it('runs a background round: checks and downloads what the feed offers', async () => {
    feed = await startFeed({ version: '1.3.0', artifact: NEW_BUILD });
    const app = new FakeApp('1.1.0', dir);
    const self = createSelfUpdate({ updater: realUpdater(app), app, currentVersion: app.version, feedUrl: feed.url });
    expect(await self.cycle()).toEqual({ kind: 'ready', currentVersion: '1.1.0', version: '1.3.0' });
    expect(await self.cycle()).toEqual({ kind: 'ready', currentVersion: '1.1.0', version: '1.3.0' });
    expect(feed.hits.filter((h) => h.endsWith('.AppImage'))).toHaveLength(1);
  }, 30_000);

  it('says up to date when the feed has the running version', async () => {
    feed = await startFeed({ version: '1.1.0', artifact: NEW_BUILD });
    const app = new FakeApp('1.1.0', dir);
    const self = createSelfUpdate({ updater: realUpdater(app), app, currentVersion: app.version, feedUrl: feed.url });
    expect(await self.check()).toEqual({ kind: 'up-to-date', currentVersion: '1.1.0' });
    expect(await self.download()).toEqual({ kind: 'up-to-date', currentVersion: '1.1.0' });
    expect(feed.hits.some((h) => h.endsWith('.AppImage'))).toBe(false);
  }, 30_000);

  it('refuses a download whose sha512 is not the published one, installing nothing', async () => {
    feed = await startFeed({ version: '1.2.0', artifact: NEW_BUILD, declaredSha512: sha512(Buffer.from('another build')) });
    const app = new FakeApp('1.1.0', dir);
    const self = createSelfUpdate({ updater: realUpdater(app), app, currentVersion: app.version, feedUrl: feed.url });
    await self.check();
    const failed = await self.download();
    expect(failed).toMatchObject({ kind: 'error', version: '1.2.0', message: expect.stringMatching(/sha512 checksum mismatch/) });
    expect(self.restart()).toBe(false);
    expect(app.quitted).toBe(0);
    expect(readFileSync(join(dir, 'AutoClaw.AppImage'), 'utf8')).toContain('old build');
  }, 30_000);

  it('reports a feed it cannot reach as an error, and can check again later', async () => {
    const app = new FakeApp('1.1.0', dir);
    const self = createSelfUpdate({ updater: realUpdater(app), app, currentVersion: app.version, feedUrl: 'http://127.0.0.1:9/feed' });
    expect(await self.check()).toMatchObject({ kind: 'error', message: expect.any(String) });
    feed = await startFeed({ version: '1.2.0', artifact: NEW_BUILD });
    const again = createSelfUpdate({ updater: realUpdater(app), app, currentVersion: app.version, feedUrl: feed.url });
    expect((await again.check()).kind).toBe('available');
  }, 30_000);
});

// The Electron side hands electron-updater's autoUpdater and Electron's app in: their types must fit the ports.
export type PortsFit = [App extends RelaunchPort ? true : never, AppImageUpdater extends UpdaterPort ? true : never];

describe('whenLoaded (the page asks before electron-updater is loaded)', () => {
  it('is idle until the self-update is there, then is it', async () => {
    feed = await startFeed({ version: '1.2.0', artifact: NEW_BUILD });
    const app = new FakeApp('1.1.0', dir);
    let loaded: (self: SelfUpdate) => void = () => undefined;
    const view = whenLoaded(new Promise<SelfUpdate>((resolve) => (loaded = resolve)), '1.1.0');
    expect(view.state()).toEqual({ kind: 'idle', currentVersion: '1.1.0' });
    expect(view.restart()).toBe(false);
    const checking = view.check();
    loaded(createSelfUpdate({ updater: realUpdater(app), app, currentVersion: app.version, feedUrl: feed.url }));
    expect(await checking).toEqual({ kind: 'available', currentVersion: '1.1.0', version: '1.2.0' });
    expect(view.state().kind).toBe('available');
  }, 30_000);

  it('is an error when the updater could not start', async () => {
    const view = whenLoaded(Promise.reject(new Error('no electron-updater')), '1.1.0');
    expect(await view.check()).toEqual({ kind: 'error', currentVersion: '1.1.0', message: 'the updater could not start' });
    expect(view.state().kind).toBe('error');
    expect(await whenLoaded(Promise.resolve(null), '1.1.0').download()).toMatchObject({ kind: 'error' });
  });
});
