/**
 * The gateway's HTTP surface as a fastify plugin: /healthz, /readyz, the
 * device endpoints under /auth and the WebChat files, with strict security
 * headers and one error handler that never leaks a 5xx message. Only
 * server.ts listens; the WebSocket upgrade is handled in ws-gateway.ts.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '@autoclaw/shared';
import type { HttpErrorBody } from '@autoclaw/shared';
import type { DeviceAuthDeps, FailureThrottle, HostPolicy } from '../security';
import type { ChannelRouteTable } from '../channels';
import { pairDevice, redeemTicket } from '../security';
import { tailscaleOnRequest } from '../tailscale';
import type { TailscaleIdentityCheck } from '../tailscale';
import { registerMetricsRoute, registerRequestIds } from '../observability';
import type { MetricBook, MetricsAccess } from '../observability';
import { registerAuthCors } from './auth-cors';
import { channelRoutes } from './channel-routes';
import { appCodeOfStatus, HTTP_STATUS_OF, INTERNAL_MESSAGE } from './error-mapping';
import type { Logger } from './logger';
import type { OriginPolicy } from './origin-policy';
import { registerStaticFiles } from './static-files';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

export interface AppOptions {
  auth: DeviceAuthDeps;
  /** Failed pairings and handshakes per remote address. */
  limiter: FailureThrottle;
  origins: OriginPolicy;
  /** The names it answers to in the Host header (DNS rebinding). */
  hosts: HostPolicy;
  isReady: () => boolean;
  /** Where the WebChat build lives. */
  rendererDir: string;
  logger: Logger;
  /** Managed instances: the id /healthz reports and pairing tickets must name. */
  instanceId?: string;
  /** Managed instances: the manager's public key that signs pairing tickets. */
  managerPublicKey?: string;
  /** With --tailscale-owner: requests through Tailscale Serve must come from the owner (on top of device auth). */
  tailscaleIdentity?: TailscaleIdentityCheck;
  /** GET /metrics: what it renders and who may read it (absent: no /metrics). */
  metrics?: { book: MetricBook; access: MetricsAccess };
  /** Finishes an account sign-in whose loopback redirect lands on this gateway (`/oauth/callback`). */
  oauthCallback?: (state: string, code: string) => Promise<string>;
  /** Endpoints chat channels serve under /channels/<name>/ (webhooks). */
  channelRoutes?: ChannelRouteTable;
}

function sendError(reply: FastifyReply, status: number, body: HttpErrorBody): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').send(body);
}

function remoteKey(req: FastifyRequest): string {
  return req.socket.remoteAddress ?? 'unknown';
}

export async function gatewayApp(app: FastifyInstance, opts: AppOptions): Promise<void> {
  const { auth, limiter, origins, logger } = opts;

  app.addHook('onRequest', async (_req, reply) => {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    reply.header('cross-origin-opener-policy', 'same-origin');
    reply.header('cross-origin-resource-policy', 'same-origin');
  });

  registerRequestIds(app, logger.info);

  // Before any route: a Host this gateway is not (a rebound DNS name) ends here.
  // Channel webhooks are the exception: the platform calls them by the public
  // name of a tunnel or proxy, and each authenticates its requests itself
  // (secret token, signature, JWT) with nothing a rebound page could borrow.
  app.addHook('onRequest', async (req) => {
    if (opts.channelRoutes && req.url.startsWith('/channels/')) return;
    const refused = opts.hosts.refusal(req.headers.host);
    if (refused) throw refused;
  });

  // Before any route (health and static files included): a Serve request from anyone but the owner ends here.
  if (opts.tailscaleIdentity) app.addHook('onRequest', tailscaleOnRequest(opts.tailscaleIdentity));

  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    if (AppError.is(err)) {
      const status = HTTP_STATUS_OF[err.code];
      if (status >= 500) logger.error('request failed', { url: req.url, err });
      const message = err.code === 'INTERNAL' ? INTERNAL_MESSAGE : err.message;
      const retryAfterMs = err.details?.['retryAfterMs'];
      if (typeof retryAfterMs === 'number') reply.header('retry-after', String(Math.ceil(retryAfterMs / 1000)));
      const details = err.code !== 'INTERNAL' && err.details ? { details: { ...err.details } } : {};
      return sendError(reply, status, { error: { code: err.code, message, ...details } });
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) {
      logger.error('request failed', { url: req.url, err });
      return sendError(reply, 500, { error: { code: 'INTERNAL', message: INTERNAL_MESSAGE } });
    }
    return sendError(reply, status, { error: { code: appCodeOfStatus(status), message: err.message } });
  });

  app.setNotFoundHandler((_req, reply) => sendError(reply, 404, { error: { code: 'NOT_FOUND', message: 'not found' } }));

  // The manager's UI and the desktop app pair from other origins on the allowlist.
  registerAuthCors(app, origins);

  /** Refuses requests from a browser page on an origin not on the allowlist. */
  async function checkOrigin(req: FastifyRequest): Promise<void> {
    if (!origins.isAllowed(req.headers.origin)) {
      throw new AppError('FORBIDDEN', 'this origin may not use the gateway (start it with --allow-origin to allow one)');
    }
  }

  // The manager re-adopts a gateway after its own restart only when the
  // instance id it reports here is the one it expects on that port.
  const health = opts.instanceId === undefined ? { ok: true } : { ok: true, instanceId: opts.instanceId };
  app.get('/healthz', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    return health;
  });

  app.get('/readyz', async (_req, reply) => {
    const ready = opts.isReady();
    return reply.code(ready ? 200 : 503).header('cache-control', 'no-store').send({ ready });
  });

  if (opts.metrics) registerMetricsRoute(app, opts.metrics.book, opts.metrics.access);

  app.get('/auth/challenge', { onRequest: checkOrigin }, async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    return auth.nonces.issue();
  });

  function rateLimited(wait: number): AppError {
    return new AppError('RATE_LIMITED', 'too many failed attempts; try again later', { details: { retryAfterMs: wait } });
  }

  /**
   * Runs a pairing attempt under the per-address failure throttle. A guess
   * of a secret (`guess`: a pairing code) waits out the address's delay
   * before it is even checked; a credential that proves itself (a manager
   * ticket) is checked at once and, when valid, never refused.
   */
  async function throttled<T>(req: FastifyRequest, reply: FastifyReply, what: string, guess: boolean, fn: () => T): Promise<T> {
    const key = remoteKey(req);
    const waiting = limiter.waitFor(key);
    if (guess && waiting > 0) throw rateLimited(waiting);
    try {
      const result = fn();
      reply.header('cache-control', 'no-store');
      return result;
    } catch (err) {
      const wait = limiter.fail(key);
      if (AppError.is(err)) logger.warn(`${what} refused`, { code: err.code, remote: key });
      if (waiting > 0 && wait > 0) throw rateLimited(wait);
      throw err;
    }
  }

  app.post('/auth/pair', { onRequest: checkOrigin }, async (req, reply) =>
    throttled(req, reply, 'pairing', true, () => {
      const result = pairDevice(auth, req.body);
      logger.info('device paired', { deviceId: result.deviceId });
      return result;
    }),
  );

  const tickets = { ...auth, managerPublicKey: opts.managerPublicKey, instanceId: opts.instanceId };
  app.post('/auth/ticket', { onRequest: checkOrigin }, async (req, reply) =>
    throttled(req, reply, 'ticket pairing', false, () => {
      const { deviceId, kind } = redeemTicket(tickets, req.body);
      logger.info('device paired with a ticket', { deviceId, kind });
      return { deviceId };
    }),
  );

  // Where Google sends the browser back when the gateway runs on the same
  // machine (WebChat). The state is single use and names a sign-in an owner's
  // device started; without the verifier the gateway keeps, a code is useless.
  const oauthCallback = opts.oauthCallback;
  if (oauthCallback) {
    app.get('/oauth/callback', async (req, reply) => {
      const q = req.query as Record<string, unknown>;
      const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 2_048) : '');
      let message: string;
      if (text(q['error'])) message = `The sign-in was not completed (${text(q['error']).slice(0, 80)}). You can close this tab and try again.`;
      else if (!text(q['state']) || !text(q['code'])) message = 'This page finishes a sign-in started from AutoClaw; nothing to do here.';
      else {
        try {
          message = await oauthCallback(text(q['state']), text(q['code']));
        } catch (err) {
          message = AppError.is(err) ? err.message : 'The sign-in could not be finished; try again from the Skills page.';
          if (!AppError.is(err)) logger.error('oauth callback failed', { err });
        }
      }
      const escaped = message.replace(/[&<>"]/g, (c) => `&${({ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot' } as Record<string, string>)[c]};`);
      return reply
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(`<!doctype html><meta charset="utf-8"><title>AutoClaw</title><p role="status">${escaped}</p>`);
    });
  }
  if (opts.channelRoutes) await app.register(channelRoutes, { routes: opts.channelRoutes });

  registerStaticFiles(app, opts.rendererDir);
}

// Like fastify-plugin: the hooks and handlers apply to the whole server, so
// there is exactly one error handler and one not-found handler.
Object.assign(gatewayApp, { [Symbol.for('skip-override')]: true });
