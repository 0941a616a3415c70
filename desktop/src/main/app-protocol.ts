/**
 * The renderer is served from `app://autoclaw/`, a privileged standard scheme,
 * instead of `file://`: it gets a real origin (so the gateway's Origin
 * allowlist and the CSP's 'self' mean something), only files under the
 * renderer build are reachable, and every response carries the strict CSP.
 */
import type { CustomScheme, Protocol } from 'electron';
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { mimeTypeOf } from '@autoclaw/shared';

export const APP_SCHEME = 'app';
export const APP_HOST = 'autoclaw';
/** The renderer's origin: gateways and the manager must allow it (Origin check on WebSocket/HTTP). */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** Must be registered before the app is ready (protocol.registerSchemesAsPrivileged). */
export const APP_SCHEME_PRIVILEGES: CustomScheme = {
  scheme: APP_SCHEME,
  // standard: a real origin and relative URLs; secure: a secure context (WebCrypto, no mixed content).
  privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
};

/** Where the renderer may connect: the gateway on loopback or on the Tailnet (Tailscale Serve, MagicDNS). */
export const DEFAULT_CONNECT_SOURCES: readonly string[] = [
  'http://127.0.0.1:*',
  'ws://127.0.0.1:*',
  'http://localhost:*',
  'ws://localhost:*',
  'https://*.ts.net',
  'wss://*.ts.net',
];

/** A CSP host source: scheme://host[:port], no spaces, quotes, commas or semicolons. */
const SOURCE = /^(https?|wss?):\/\/(\*\.)?[A-Za-z0-9.-]+(:(\d{1,5}|\*))?$/;

/** The renderer's policy: scripts and styles only from the app bundle, no inline code. */
export function rendererContentSecurityPolicy(connectSources: readonly string[]): string {
  for (const source of connectSources) {
    if (!SOURCE.test(source)) throw new Error(`not a CSP host source: ${JSON.stringify(source)}`);
  }
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    ['connect-src', "'self'", ...connectSources].join(' '),
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}


export function mimeType(path: string): string {
  return mimeTypeOf(path);
}

export interface AppProtocolOptions {
  /** The renderer build, e.g. desktop/dist/renderer. */
  root: string;
  /** From rendererContentSecurityPolicy(). */
  contentSecurityPolicy: string;
}

export type AppProtocolHandler = (request: Request) => Promise<Response>;

function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root + sep);
}

/**
 * The file a URL path names under root, or null when the path is malformed or
 * leaves root: encoded slashes, backslashes, NUL and dot segments are refused
 * before resolving, and the resolved path must still be inside root.
 */
export function resolveAppPath(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/');
  if (segments.some((segment) => segment === '..' || segment === '.')) return null;
  const full = resolve(root, `.${decoded}`);
  return isInside(root, full) ? full : null;
}

async function regularFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export function createAppProtocolHandler(options: AppProtocolOptions): AppProtocolHandler {
  const root = resolve(options.root);
  const baseHeaders = {
    'content-security-policy': options.contentSecurityPolicy,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  };
  const fail = (status: number): Response =>
    new Response(null, { status, headers: { ...baseHeaders, 'content-type': 'text/plain; charset=utf-8' } });

  async function serve(path: string, head: boolean): Promise<Response> {
    // A symlink inside the build must not lead outside it either.
    const real = await realpath(path);
    const realRoot = await realpath(root);
    if (!isInside(realRoot, real)) return fail(403);
    const body = head ? null : new Uint8Array(await readFile(real));
    return new Response(body, { status: 200, headers: { ...baseHeaders, 'content-type': mimeType(real) } });
  }

  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return fail(405);
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return fail(400);
    }
    if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return fail(404);
    const head = request.method === 'HEAD';
    const index = resolve(root, 'index.html');
    if (url.pathname === '/' || url.pathname === '') return (await regularFile(index)) ? serve(index, head) : fail(404);
    const file = resolveAppPath(root, url.pathname);
    if (file === null) return fail(403);
    if (await regularFile(file)) return serve(file, head);
    // Client-side routes (no extension) get the app; a missing asset is a 404.
    if (extname(file) === '' && (await regularFile(index))) return serve(index, head);
    return fail(404);
  };
}

export type ProtocolPort = Pick<Protocol, 'handle'>;

export function registerAppProtocol(protocol: ProtocolPort, handler: AppProtocolHandler): void {
  protocol.handle(APP_SCHEME, handler);
}
