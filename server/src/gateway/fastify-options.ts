/**
 * Fastify options the gateway and the manager share. No route declares a
 * JSON schema, so fastify never needs ajv or fast-json-stringify: not loading
 * them keeps start-up and memory small (an idle gateway is a cost per user).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { AppError } from '@autoclaw/shared';
import { requestIdOf } from '../observability';

function noSchemaCompiler(): never {
  throw new AppError('INTERNAL', 'routes here do not use JSON schemas');
}

export const LEAN_FASTIFY_OPTIONS = {
  logger: false,
  schemaController: { compilersFactory: { buildValidator: noSchemaCompiler, buildSerializer: noSchemaCompiler } },
  bodyLimit: 64 * 1024,
  forceCloseConnections: true,
  requestTimeout: 30_000,
  return503OnClosing: true,
  // Each request's id (req.id): the client's x-request-id when well-formed, else a new one.
  requestIdHeader: false,
  genReqId: (req: { headers: IncomingHttpHeaders }) => requestIdOf(req.headers),
} as const;
