/**
 * An HTTP server for the wire servers that route on the raw body (signatures,
 * forms, multipart): reads each request whole, hands it to `route` with its
 * parsed URL, answers a throw with the service's own error shape, and calls
 * `settled` after every request (to wake waiters).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export function createRawServer(opts: {
  route: (req: IncomingMessage, res: ServerResponse, raw: Buffer, url: URL) => void;
  fail: (res: ServerResponse, err: unknown) => void;
  settled: () => void;
}): Server {
  return createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
      opts.route(req, res, Buffer.concat(chunks), new URL(req.url ?? '/', 'http://local'));
    })()
      .catch((err: unknown) => {
        if (!res.headersSent) opts.fail(res, err);
      })
      .finally(opts.settled);
  });
}
