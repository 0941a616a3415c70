/**
 * Inbound HTTP endpoints of channels (webhooks, messaging endpoints): the
 * gateway's app serves `/channels/<name>/*` from this table. A route lives
 * as long as the channel run that added it. The routes are exempt from
 * device auth; each handler authenticates its requests itself.
 */
import type { ChannelHttpRequest, ChannelHttpResponse, ChannelRouteHandler } from './types';

export interface ChannelRouteTable {
  add(channel: string, method: string, path: string, handler: ChannelRouteHandler): void;
  /** Drops every route of a channel (its run ended). */
  clear(channel: string): void;
  /** Answers a request for `/channels/<channel><path>`; 404 for no such route, 503 while the channel does not run. */
  handle(channel: string, request: ChannelHttpRequest): Promise<ChannelHttpResponse>;
}

export function createRouteTable(deps: { isKnown: (channel: string) => boolean }): ChannelRouteTable {
  const routes = new Map<string, Map<string, ChannelRouteHandler>>();
  const keyOf = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

  return {
    add(channel, method, path, handler) {
      if (!path.startsWith('/')) throw new Error('a channel route path starts with /');
      let table = routes.get(channel);
      if (!table) {
        table = new Map();
        routes.set(channel, table);
      }
      table.set(keyOf(method, path), handler);
    },
    clear(channel) {
      routes.delete(channel);
    },
    async handle(channel, request) {
      const table = routes.get(channel);
      if (!table) {
        return deps.isKnown(channel)
          ? { status: 503, headers: { 'retry-after': '5' }, body: { error: { code: 'NOT_CONFIGURED', message: 'this channel is not running' } } }
          : { status: 404, body: { error: { code: 'NOT_FOUND', message: 'not found' } } };
      }
      const handler = table.get(keyOf(request.method, request.path));
      if (!handler) return { status: 404, body: { error: { code: 'NOT_FOUND', message: 'not found' } } };
      return handler(request);
    },
  };
}
