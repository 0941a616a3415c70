/**
 * The manager's HTTP surface as a fastify plugin: /healthz, /readyz, tRPC
 * over HTTP at /trpc/<procedure>, the setup page and the renderer build,
 * with the gateway's security headers and one error handler that never
 * leaks a 5xx message. Only server.ts listens; WebSockets are in ws.ts.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fastifyRequestHandler } from '@trpc/server/adapters/fastify';
import { AppError } from '@autoclaw/shared';
import type { HttpErrorBody } from '@autoclaw/shared';
import { registerBillingReturn } from './billing-return';
import { MANAGER_CONTENT_SECURITY_POLICY } from './csp';
import { appCodeOfStatus, HTTP_STATUS_OF, INTERNAL_MESSAGE, registerStaticFiles } from './gateway-parts';
import type { Logger, OriginPolicy } from './gateway-parts';
import type { HostPolicy } from '../security';
import { registerMetricsRoute, registerRequestIds } from '../observability';
import type { MetricBook, MetricsAccess } from '../observability';
import { managerRouter } from './router';
import type { ManagerContext, ManagerServices } from './trpc';

export interface ManagerAppOptions {
  services: ManagerServices;
  origins: OriginPolicy;
  /** The names it answers to in the Host header (DNS rebinding). */
  hosts: HostPolicy;
  /** Where the renderer build lives (its index.html answers /setup and client routes). */
  rendererDir: string;
  /** The operator key (DIR/operator.key) the CLI authenticates with. */
  operatorKey: Buffer;
  isReady: () => boolean;
  logger: Logger;
  /** The one door to the instances (/i/<instanceId>/…), proxied before any body parsing. */
  door?: { onRequest(req: FastifyRequest, reply: FastifyReply): Promise<void> };
  /** GET /metrics: what it renders and who may read it. */
  metrics?: { book: MetricBook; access: MetricsAccess };
}

const NOT_BUILT = 'The AutoClaw UI is not built yet.\n\nBuild it with:  npm run build   (or: node scripts/build.mjs renderer)\nthen reload this page.\n';

function sendError(reply: FastifyReply, status: number, body: HttpErrorBody): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').send(body);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** `Bearer <session token>` or `Operator <operator key>`. */
function credentials(req: FastifyRequest, operatorDigest: Buffer): { bearer: string | null; operator: boolean } {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return { bearer: null, operator: false };
  const [scheme, value, extra] = header.trim().split(/\s+/);
  if (value === undefined || extra !== undefined || value.length > 200) return { bearer: null, operator: false };
  if (scheme?.toLowerCase() === 'bearer') return { bearer: value, operator: false };
  if (scheme?.toLowerCase() === 'operator') return { bearer: null, operator: timingSafeEqual(digest(value), operatorDigest) };
  return { bearer: null, operator: false };
}

export async function managerApp(app: FastifyInstance, opts: ManagerAppOptions): Promise<void> {
  const { services, origins, logger } = opts;
  const operatorDigest = digest(opts.operatorKey.toString('base64url'));

  app.addHook('onRequest', async (_req, reply) => {
    reply.header('content-security-policy', MANAGER_CONTENT_SECURITY_POLICY);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    reply.header('cross-origin-opener-policy', 'same-origin');
    reply.header('cross-origin-resource-policy', 'same-origin');
  });
  registerRequestIds(app, logger.info);
  app.addHook('onRequest', async (req) => {
    const refused = opts.hosts.refusal(req.headers.host);
    if (refused) throw refused;
  });
  const door = opts.door;
  if (door) app.addHook('onRequest', (req, reply) => door.onRequest(req, reply));

  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    if (AppError.is(err)) {
      const status = HTTP_STATUS_OF[err.code];
      if (status >= 500) logger.error('request failed', { url: req.url.split('?')[0], err });
      return sendError(reply, status, { error: { code: err.code, message: err.code === 'INTERNAL' ? INTERNAL_MESSAGE : err.message } });
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) {
      logger.error('request failed', { url: req.url.split('?')[0], err });
      return sendError(reply, 500, { error: { code: 'INTERNAL', message: INTERNAL_MESSAGE } });
    }
    return sendError(reply, status, { error: { code: appCodeOfStatus(status), message: err.message } });
  });

  app.setNotFoundHandler((_req, reply) => sendError(reply, 404, { error: { code: 'NOT_FOUND', message: 'not found' } }));

  app.get('/healthz', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    return { ok: true, service: 'autoclaw-manager', version: services.version };
  });

  app.get('/readyz', async (_req, reply) => {
    const ready = opts.isReady();
    return reply.code(ready ? 200 : 503).header('cache-control', 'no-store').send({ ready });
  });

  if (opts.metrics) registerMetricsRoute(app, opts.metrics.book, opts.metrics.access);

  // tRPC over HTTP. JSON bodies reach tRPC as text, so a malformed body is
  // tRPC's typed PARSE_ERROR, like any other bad input.
  await app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    scope.addHook('onRequest', async (req) => {
      if (!origins.isAllowed(req.headers.origin)) throw new AppError('FORBIDDEN', 'this origin may not use the manager');
    });
    scope.all<{ Params: { path: string } }>('/trpc/:path', async (req, reply) => {
      const { bearer, operator } = credentials(req, operatorDigest);
      await fastifyRequestHandler({
        router: managerRouter,
        req,
        res: reply,
        path: req.params.path,
        createContext: (): ManagerContext => ({
          services,
          remote: req.socket.remoteAddress ?? 'unknown',
          transport: 'http',
          bearer,
          sessionId: null,
          operator,
        }),
        onError({ error, path }) {
          const internal = AppError.is(error.cause) ? error.cause.code === 'INTERNAL' : error.code === 'INTERNAL_SERVER_ERROR';
          if (internal) logger.error('procedure failed', { path, err: error.cause ?? error });
        },
      });
    });
  });

  // Stripe's webhooks: the raw body (the signature covers its exact bytes), no Origin (a server calls).
  await app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 1_048_576 }, (_req, body, done) => done(null, body));
    scope.post('/webhooks/stripe', async (req, reply) => {
      const stripe = services.billing?.stripe;
      if (!stripe) throw new AppError('NOT_CONFIGURED', 'billing is off: Stripe is not configured on this manager');
      const signature = req.headers['stripe-signature'];
      const outcome = await stripe.handleWebhook(typeof req.body === 'string' ? req.body : '', typeof signature === 'string' ? signature : undefined);
      return reply.header('cache-control', 'no-store').send({ received: true, duplicate: outcome.duplicate });
    });
  });

  registerBillingReturn(app);

  // The setup link opens the renderer, which reads the token and calls
  // auth.setupStatus / auth.completeSetup; never cached, never referred.
  const index = join(resolve(opts.rendererDir), 'index.html');
  app.get('/setup', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    try {
      if (statSync(index).isFile()) return reply.type('text/html; charset=utf-8').send(createReadStream(index));
    } catch {
      // not built: say how to build it
    }
    return reply.code(503).type('text/plain; charset=utf-8').send(NOT_BUILT);
  });

  registerStaticFiles(app, opts.rendererDir);
}

// Like fastify-plugin: the hooks and handlers apply to the whole server.
Object.assign(managerApp, { [Symbol.for('skip-override')]: true });
