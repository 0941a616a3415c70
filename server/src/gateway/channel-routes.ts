/**
 * `/channels/<name>/*`: the inbound HTTP endpoints channels serve (webhooks,
 * messaging endpoints). Exempt from device auth — each channel
 * authenticates its requests itself (signatures, secret tokens, JWTs) — and
 * given the raw body so it can check a signature over exactly those bytes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ChannelRouteTable } from '../channels';

const BODY_LIMIT = 2 * 1024 * 1024;

export async function channelRoutes(app: FastifyInstance, opts: { routes: ChannelRouteTable }): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));
  const handler = async (req: FastifyRequest<{ Params: { channel: string; '*': string } }>, reply: FastifyReply) => {
    const url = new URL(req.url, 'http://gateway');
    const answer = await opts.routes.handle(req.params.channel, {
      method: req.method,
      path: `/${req.params['*']}`,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
    });
    reply.code(answer.status).header('cache-control', 'no-store');
    for (const [name, value] of Object.entries(answer.headers ?? {})) reply.header(name, value);
    return reply.send(answer.body ?? '');
  };
  app.route({ method: ['GET', 'POST', 'PUT'], url: '/channels/:channel/*', bodyLimit: BODY_LIMIT, handler });
}
