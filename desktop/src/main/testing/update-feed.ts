/**
 * Test support for the desktop self-update: a local generic feed server
 * (latest-linux.yml and the artifact with its sha512, as electron-builder
 * publishes them), a double of the Electron app electron-updater sees
 * (version, paths, relaunch, quit), and the real electron-updater
 * AppImageUpdater over Node's http.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppImageUpdater } from 'electron-updater';
import type { AppAdapter } from 'electron-updater/out/AppAdapter';
import type { RelaunchPort, UpdaterPort } from '../self-update';
import { NodeHttpExecutor } from './node-http-executor';

/** The new build: a script that exits at once (electron-updater runs the AppImage once after replacing it). */
export const NEW_BUILD = Buffer.concat([Buffer.from('#!/bin/sh\nexit 0\n'), Buffer.from(`# ${randomBytes(600 * 1024).toString('base64')}\n`)]);
export const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('base64');

export interface Feed {
  url: string;
  hits: string[];
  /** While true, every request gets 503 (the feed is down). */
  down: boolean;
  close(): Promise<void>;
}

export interface FeedOptions {
  version: string;
  artifact: Buffer;
  declaredSha512?: string;
  /**
   * Sends half the artifact, then (after electron-updater's 1 s progress
   * interval) a little more, so a progress event fires mid-way, and the
   * rest only once this resolves: a download a test can watch.
   */
  hold?: Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startFeed(o: FeedOptions): Promise<Feed> {
  const hits: string[] = [];
  const feed: Feed = { url: '', hits, down: false, close: () => new Promise((resolve) => server.close(() => resolve())) };
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
    if (feed.down) {
      res.writeHead(503);
      return void res.end('unavailable');
    }
    if (path === '/feed/latest-linux.yml') {
      res.writeHead(200, { 'content-type': 'text/yaml' });
      return void res.end(yml);
    }
    if (path === `/feed/${name}`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': o.artifact.length });
      if (!o.hold) return void res.end(o.artifact);
      const half = Math.floor(o.artifact.length / 2);
      const { hold } = o;
      res.write(o.artifact.subarray(0, half));
      void (async () => {
        await sleep(1_100);
        res.write(o.artifact.subarray(half, half + 1024));
        await hold;
        res.end(o.artifact.subarray(half + 1024));
      })();
      return;
    }
    res.writeHead(404);
    res.end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  feed.url = `http://127.0.0.1:${port}/feed`;
  return feed;
}

/** What electron-updater sees of Electron's app (its AppAdapter), recording relaunch and quit; quitting runs the quit handlers as Electron's `quit` event does. */
export class FakeApp implements AppAdapter, RelaunchPort {
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

export function realUpdater(app: FakeApp): UpdaterPort {
  const updater = new AppImageUpdater(null, app);
  // Electron's net is not here: the same executor over Node's http.
  (updater as unknown as { httpExecutor: NodeHttpExecutor }).httpExecutor = new NodeHttpExecutor();
  updater.logger = null;
  return updater;
}


/**
 * What a packaged Linux app has: app-update.yml in its resources and the
 * running AppImage (electron-updater finds it through APPIMAGE, as the
 * AppImage runtime sets it). Returns a function that restores APPIMAGE.
 */
export function installedApp(dir: string): () => void {
  writeFileSync(join(dir, 'app-update.yml'), 'provider: generic\nurl: http://127.0.0.1:9/unused\nupdaterCacheDirName: autoclaw-updater\n');
  writeFileSync(join(dir, 'AutoClaw.AppImage'), '#!/bin/sh\necho old build\n', { mode: 0o755 });
  const saved = process.env['APPIMAGE'];
  process.env['APPIMAGE'] = join(dir, 'AutoClaw.AppImage');
  return () => {
    if (saved === undefined) delete process.env['APPIMAGE'];
    else process.env['APPIMAGE'] = saved;
  };
}
