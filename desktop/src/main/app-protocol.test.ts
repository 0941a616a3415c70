import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_SCHEME,
  APP_SCHEME_PRIVILEGES,
  DEFAULT_CONNECT_SOURCES,
  createAppProtocolHandler,
  registerAppProtocol,
  rendererContentSecurityPolicy,
  resolveAppPath,
  type AppProtocolHandler,
  type ProtocolPort,
} from './app-protocol';

/** Electron's `protocol`, reduced to the one method the module uses. */
class FakeProtocol implements ProtocolPort {
  readonly handlers = new Map<string, (request: Request) => Response | Promise<Response>>();
  handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void {
    this.handlers.set(scheme, handler);
  }
}

let base: string;
let root: string;
let handle: AppProtocolHandler;
const csp = rendererContentSecurityPolicy([...DEFAULT_CONNECT_SOURCES, 'https://manager.example.com']);

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'autoclaw-app-protocol-'));
  root = join(base, 'renderer');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>AutoClaw</title>');
  writeFileSync(join(root, 'assets', 'app-1234.js'), 'console.log(1)');
  writeFileSync(join(root, 'assets', 'app-1234.css'), 'body{}');
  writeFileSync(join(root, 'assets', 'logo.svg'), '<svg/>');
  writeFileSync(join(root, 'assets', 'blob.bin'), 'x');
  writeFileSync(join(base, 'secret.txt'), 'TOP SECRET');
  symlinkSync(join(base, 'secret.txt'), join(root, 'assets', 'link.txt'));
  const protocol = new FakeProtocol();
  registerAppProtocol(protocol, createAppProtocolHandler({ root, contentSecurityPolicy: csp }));
  const registered = protocol.handlers.get(APP_SCHEME);
  if (!registered) throw new Error('app scheme not registered');
  handle = async (request) => registered(request);
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

const get = (url: string, method = 'GET'): Promise<Response> => handle(new Request(url, { method }));

describe('app:// protocol', () => {
  it('is registered as a standard, secure scheme', () => {
    expect(APP_SCHEME_PRIVILEGES).toMatchObject({ scheme: 'app', privileges: { standard: true, secure: true } });
  });

  it('serves index.html at the root with the CSP and the right MIME type', async () => {
    for (const url of ['app://autoclaw/', 'app://autoclaw/index.html']) {
      const res = await get(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toBe(csp);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await res.text()).toContain('<title>AutoClaw</title>');
    }
  });

  it('serves assets with their MIME types', async () => {
    const cases: Array<[string, string]> = [
      ['assets/app-1234.js', 'text/javascript; charset=utf-8'],
      ['assets/app-1234.css', 'text/css; charset=utf-8'],
      ['assets/logo.svg', 'image/svg+xml'],
      ['assets/blob.bin', 'application/octet-stream'],
    ];
    for (const [path, type] of cases) {
      const res = await get(`app://autoclaw/${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(res.headers.get('content-security-policy')).toBe(csp);
    }
    expect(await (await get('app://autoclaw/assets/app-1234.js')).text()).toBe('console.log(1)');
  });

  it('gives client-side routes the app and missing assets a 404', async () => {
    const route = await get('app://autoclaw/settings/devices');
    expect(route.status).toBe(200);
    expect(await route.text()).toContain('AutoClaw');
    expect((await get('app://autoclaw/assets/missing.js')).status).toBe(404);
  });

  it('refuses path traversal in every spelling', async () => {
    const attempts = [
      'app://autoclaw/assets/..%2F..%2Fsecret.txt',
      'app://autoclaw/..%2fsecret.txt',
      'app://autoclaw/assets%2F..%2F..%2Fsecret.txt',
      'app://autoclaw/..%5csecret.txt',
      'app://autoclaw/%2e%2e%2fsecret.txt',
      'app://autoclaw/assets/%00.js',
      'app://autoclaw/%E0%A4%A',
    ];
    for (const url of attempts) {
      const res = await get(url);
      expect(res.status, url).toBeGreaterThanOrEqual(400);
      expect(await res.text()).not.toContain('TOP SECRET');
    }
    // The URL parser already folds plain dot segments; what is left stays inside root.
    const folded = await get('app://autoclaw/../../secret.txt');
    expect(await folded.text()).not.toContain('TOP SECRET');
  });

  it('does not follow a symlink out of the build', async () => {
    const res = await get('app://autoclaw/assets/link.txt');
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain('TOP SECRET');
  });

  it('answers only GET/HEAD on its own host', async () => {
    expect((await get('app://autoclaw/index.html', 'POST')).status).toBe(405);
    expect((await get('app://evil/index.html')).status).toBe(404);
    const head = await get('app://autoclaw/index.html', 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });
});

describe('resolveAppPath', () => {
  it('keeps paths inside root and refuses escapes', () => {
    expect(resolveAppPath('/srv/r', '/assets/a.js')).toBe('/srv/r/assets/a.js');
    expect(resolveAppPath('/srv/r', '/../../etc/passwd')).toBeNull();
    expect(resolveAppPath('/srv/r', '/a/./b')).toBeNull();
    expect(resolveAppPath('/srv/r', '/%2e%2e/x')).toBeNull();
    expect(resolveAppPath('/srv/r', '/a%5C..%5Cb')).toBeNull();
    expect(resolveAppPath('/srv/r', '/%zz')).toBeNull();
  });
});

describe('rendererContentSecurityPolicy', () => {
  it('allows no inline script and names every connect source', () => {
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("connect-src 'self' http://127.0.0.1:* ws://127.0.0.1:*");
    expect(csp).toContain('https://manager.example.com');
  });

  it('refuses a source that would inject a directive', () => {
    expect(() => rendererContentSecurityPolicy(["https://a.example; script-src 'unsafe-inline'"])).toThrow();
    expect(() => rendererContentSecurityPolicy(['*'])).toThrow();
    expect(() => rendererContentSecurityPolicy(['https://a.example/path'])).toThrow();
  });
});
