/**
 * Serves the WebChat build (desktop/dist/renderer) without a static-file
 * plugin: a handful of file types, no directory listings, no path escapes.
 * Paths without a file extension get index.html (client-side routes).
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { mimeTypeOf } from '@autoclaw/shared';

/** desktop/dist/renderer of the checkout this code runs from (source or bundle). */
export function defaultRendererDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  let dir = here;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'desktop')) && existsSync(join(dir, 'server'))) return join(dir, 'desktop/dist/renderer');
    dir = dirname(dir);
  }
  return resolve(here, '../../../desktop/dist/renderer');
}


const NOT_BUILT = [
  'AutoClaw WebChat is not built yet.',
  '',
  'Build it with:  npm run build   (or: node scripts/build.mjs renderer)',
  'then reload this page.',
  '',
].join('\n');

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Maps a URL path to a file under root; null when it is outside root or malformed. */
export function resolveStaticPath(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.split(/[\\/]/).includes('..')) return null;
  const full = resolve(join(root, decoded));
  return full === root || full.startsWith(root + sep) ? full : null;
}

function sendFile(reply: FastifyReply, path: string, cache: string): FastifyReply {
  const type = mimeTypeOf(path);
  return reply.header('cache-control', cache).type(type).send(createReadStream(path));
}

/** Registers GET /* for the renderer at `dir` (or a how-to-build page when it is missing). */
export function registerStaticFiles(app: FastifyInstance, dir: string): void {
  const root = resolve(dir);
  const index = join(root, 'index.html');
  app.get('/*', (req, reply) => {
    const urlPath = (req.url.split('?')[0] ?? '/').replace(/^\/+/, '/');
    if (/^\/(trpc|auth)(\/|$)/.test(urlPath)) return reply.callNotFound();
    if (!isFile(index)) {
      return reply.code(503).header('cache-control', 'no-store').type('text/plain; charset=utf-8').send(NOT_BUILT);
    }
    const file = urlPath === '/' ? index : resolveStaticPath(root, urlPath);
    if (file !== null && isFile(file)) {
      const immutable = file.startsWith(join(root, 'assets') + sep);
      return sendFile(reply, file, immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    }
    if (file !== null && extname(urlPath) === '') return sendFile(reply, index, 'no-cache');
    return reply.callNotFound();
  });
}
