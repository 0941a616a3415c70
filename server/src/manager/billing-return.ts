/**
 * GET /billing/return: where Stripe Checkout sends the user back when the
 * top-up or subscription was started from the desktop app (the app's own
 * origin is not a web page Stripe can open). The page only says what
 * happened and to go back to the app: no script, no session data, no secret;
 * the manager's CSP applies. `?checkout=done` is Stripe's success URL, the
 * bare page its cancel URL.
 */
import type { FastifyInstance } from 'fastify';

const page = (title: string, body: string): string =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="light dark"><title>${title} — AutoClaw</title></head>` +
  `<body><main><h1>${title}</h1><p>${body}</p></main></body></html>`;

export const RETURN_PAID = page('Payment received', 'Payment received — you can go back to AutoClaw. Your balance updates there in a moment.');
export const RETURN_CANCELLED = page('Checkout cancelled', 'Checkout was cancelled and nothing was charged — you can go back to AutoClaw.');

export function registerBillingReturn(app: FastifyInstance): void {
  app.get<{ Querystring: Record<string, unknown> }>('/billing/return', async (req, reply) => {
    const paid = req.query.checkout === 'done';
    return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(paid ? RETURN_PAID : RETURN_CANCELLED);
  });
}
