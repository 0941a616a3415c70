/**
 * GET /metrics for a fastify app, and the request-id hooks both servers
 * share. /metrics is not public: it answers a direct loopback connection
 * (no forwarding header: nothing came through a proxy, Tailscale Serve or
 * the manager's door) or a request with `Authorization: Bearer <metrics
 * token>` (AUTOCLAW_METRICS_TOKEN), e.g. Prometheus inside a cluster.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { AppError } from '@autoclaw/shared';
import type { MetricBook } from './metric-book';
import { REQUEST_ID_HEADER } from './request-id';

const FORWARDING_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip', 'x-forwarded-host', 'tailscale-user-login', 'via'];
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export interface MetricsAccess {
  /** The bearer token that may scrape from anywhere; undefined: loopback only. */
  token?: string | undefined;
}

/** True for a direct loopback peer that no proxy stands in front of. */
export function isDirectLoopback(remoteAddress: string | undefined, headers: IncomingHttpHeaders): boolean {
  return LOOPBACK.test(remoteAddress ?? '') && FORWARDING_HEADERS.every((name) => headers[name] === undefined);
}

export function mayScrape(remoteAddress: string | undefined, headers: IncomingHttpHeaders, access: MetricsAccess): boolean {
  if (access.token !== undefined) {
    const [scheme, value] = (headers.authorization ?? '').trim().split(/\s+/);
    if (scheme?.toLowerCase() === 'bearer' && value !== undefined && timingSafeEqual(digest(value), digest(access.token))) return true;
  }
  return isDirectLoopback(remoteAddress, headers);
}

export function registerMetricsRoute(app: FastifyInstance, book: MetricBook, access: MetricsAccess): void {
  app.get('/metrics', async (req, reply) => {
    if (!mayScrape(req.socket.remoteAddress, req.headers, access)) {
      throw new AppError('FORBIDDEN', '/metrics answers a direct loopback connection or the metrics token (AUTOCLAW_METRICS_TOKEN)');
    }
    const { contentType, body } = await book.render();
    return reply.header('cache-control', 'no-store').type(contentType).send(body);
  });
}

/** Echoes each request's id (fastify's `req.id`, see `genReqId`) to the client, and logs each request but the probes. */
export function registerRequestIds(app: FastifyInstance, log: (msg: string, fields: Record<string, unknown>) => void): void {
  app.addHook('onRequest', async (req, reply) => {
    reply.header(REQUEST_ID_HEADER, req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    if (path === '/healthz' || path === '/readyz' || path === '/metrics') return;
    log('request', { requestId: req.id, method: req.method, path: path.slice(0, 200), status: reply.statusCode, ms: Math.round(reply.elapsedTime) });
  });
}
