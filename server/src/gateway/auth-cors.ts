/**
 * CORS for the device-auth endpoints (/auth/challenge, /auth/pair,
 * /auth/ticket). The manager's UI and the desktop app (app://autoclaw) run
 * on origins other than the gateway's, yet must read a challenge and redeem
 * a pairing ticket. Only origins on the allowlist get the CORS headers, so
 * a page elsewhere still cannot read a challenge (and checkOrigin refuses
 * it anyway); the same origin needs none. No credentials are ever allowed:
 * the device authenticates by signature, not by cookie.
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '@autoclaw/shared';
import type { OriginPolicy } from './origin-policy';

export const AUTH_PATHS = ['/auth/challenge', '/auth/pair', '/auth/ticket'] as const;
const PREFLIGHT_MAX_AGE_S = 600;

function allowedOrigin(origins: OriginPolicy, origin: unknown): string | null {
  return typeof origin === 'string' && origins.isAllowed(origin) ? origin : null;
}

export function registerAuthCors(app: FastifyInstance, origins: OriginPolicy): void {
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    if (!(AUTH_PATHS as readonly string[]).includes(path)) return;
    reply.header('vary', 'Origin');
    const origin = allowedOrigin(origins, req.headers.origin);
    if (origin !== null) reply.header('access-control-allow-origin', origin);
  });

  for (const path of AUTH_PATHS) {
    app.options(path, async (req, reply) => {
      if (allowedOrigin(origins, req.headers.origin) === null) {
        throw new AppError('FORBIDDEN', 'this origin may not use the gateway (start it with --allow-origin to allow one)');
      }
      return reply
        .code(204)
        .header('access-control-allow-methods', path === '/auth/challenge' ? 'GET' : 'POST')
        .header('access-control-allow-headers', 'content-type')
        .header('access-control-max-age', String(PREFLIGHT_MAX_AGE_S))
        .send();
    });
  }
}
