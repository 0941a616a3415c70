/**
 * Self-update through the real electron-updater (its Linux AppImage
 * updater) against a local generic feed server (latest-linux.yml + the
 * artifact with its sha512), with a double of the app electron-updater
 * sees (version, paths, relaunch, quit): check → download with progress →
 * restart installs the new build on quit. A newer version that is not
 * there, a wrong sha512 and a dead feed each end in a clear state with
 * nothing installed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from 'electron';
import { AppImageUpdater } from 'electron-updater';
import type { AppAdapter } from 'electron-updater/out/AppAdapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSelfUpdate } from './self-update';
import type { RelaunchPort, SelfUpdateState, UpdaterPort } from './self-update';
import { NodeHttpExecutor } from './testing/node-http-executor';

/** The new build: a script that exits at once (electron-updater runs the AppImage once after replacing it). */
const NEW_BUILD = Buffer.concat([Buffer.from('#!/bin/sh\nexit 0\n'), Buffer.from(`# ${randomBytes(600 * 1024).toString('base64')}\n`)]);
const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('base64');

interface Feed {
  url: string;
  hits: string[];
  close(): Promise<void>;
}

async function startFeed(o: { version: string; artifact: Buffer; declaredSha512?: string }): Promise<Feed> {
  const hits: string[] = [];
  const name = `AutoClaw-${o.version}.AppImage`;
  const yml = [
    `version: ${o.version}`,
    'files:',
    `  - url: ${name}`,
    `    sha512: ${o.declaredSha512 ?? sha512(o.artifact)}`,
    `    size: ${o.artifact.length}`,
    `path: ${name}`,
    `sha512: ${o.declaredSha512 ?? sha512(o.artifact)}`,
    "releaseDate: '2026-12-06T20:00:00.000Z'",
    '',
  ].join('\n');
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    hits.push(path);
    if (path === '/feed/latest-linux.yml') {
      res.writeHead(200, { 'content-type': 'text/yaml' });
      return void res.end(yml);
    }
    if (path === `/feed/${name}`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': o.artifact.length });
      return void res.end(o.artifact);
    }
    res.writeHead(404);
    res.end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/feed`, hits, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** What electron-updater sees of Electron's app (its AppAdapter), recording relaunch and quit; quitting runs the quit handlers as Electron's `quit` event does. */
class FakeApp implements AppAdapter, RelaunchPort {
  readonly name = 'AutoClaw';
  readonly isPackaged = true;
  relaunched = 0;
  quitted = 0;
  private readonly quitHandlers: Array<(exitCode: number) => void> = [];
  constructor(
    readonly version: string,
    private readonly dir: string,
  ) {}
  get appUpdateConfigPath(): string {
    return join(this.dir, 'app-update.yml');
  }
  get userDataPath(): string {
    return join(this.dir, 'user-data');
  }
  get baseCachePath(): string {
    return join(this.dir, 'cache');
  }
  whenReady(): Promise<void> {
    return Promise.resolve();
  }
  relaunch(): void {
    this.relaunched += 1;
  }
  quit(): void {
    this.quitted += 1;
    for (const h of this.quitHandlers.splice(0)) h(0);
  }
  onQuit(handler: (exitCode: number) => void): void {
    this.quitHandlers.push(handler);
  }
}

let dir: string;
let feed: Feed | null = null;
let savedAppImage: string | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'autoclaw-selfupdate-'));
  // What electron-builder writes into a packaged app's resources.
  writeFileSync(join(dir, 'app-update.yml'), 'provider: generic\nurl: http://127.0.0.1:9/unused\nupdaterCacheDirName: autoclaw-updater\n');
  // The running AppImage (electron-updater finds it through APPIMAGE, as AppImage's runtime sets it).
  writeFileSync(join(dir, 'AutoClaw.AppImage'), '#!/bin/sh\necho old build\n', { mode: 0o755 });
  savedAppImage = process.env['APPIMAGE'];
  process.env['APPIMAGE'] = join(dir, 'AutoClaw.AppImage');
});
afterEach(async () => {
  await feed?.close();
  feed = null;
  if (savedAppImage === undefined) delete process.env['APPIMAGE'];
  else process.env['APPIMAGE'] = savedAppImage;
  rmSync(dir, { recursive: true, force: true });
});

function realUpdater(app: FakeApp): UpdaterPort {
  const updater = new AppImageUpdater(null, app);
  // Electron's net is not here: the same executor over Node's http.
  (updater as unknown as { httpExecutor: NodeHttpExecutor }).httpExecutor = new NodeHttpExecutor();
  updater.logger = null;
  return updater;
}

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
