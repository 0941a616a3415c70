/**
 * Request ids: one per HTTP request or WebSocket, taken from the client's
 * `x-request-id` when it is a plain token (so a client's id is carried from
 * the manager into the gateway's logs of the turn), else made here. Never
 * trusted beyond that shape: a log line cannot be forged through it.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

const SHAPE = /^[A-Za-z0-9._:-]{8,100}$/;

export function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers[REQUEST_ID_HEADER];
  const value = Array.isArray(given) ? given[0] : given;
  return typeof value === 'string' && SHAPE.test(value) ? value : randomUUID();
}
