/**
 * An HTTP proxy on loopback for programs a skill starts (the browser skill's
 * Chromium is launched with --proxy-server pointing here): CONNECT tunnels
 * and absolute-form requests, each checked against the skill's host policy
 * and pinned to the address that was checked, like egress-fetch.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { checkedAddress, EgressRefused } from './egress-fetch';
import { splitHostPort, type HostPolicy } from './host-policy';

export interface EgressProxy {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  close(): Promise<void>;
}

export interface EgressProxyOptions {
  policy: () => HostPolicy;
  onRefused?: (host: string, reason: string) => void;
  resolve?: (host: string) => Promise<string[]>;
}

function refuse(res: ServerResponse, status: number, reason: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
  res.end(`AutoClaw egress: ${reason}\n`);
}

export async function startEgressProxy(opts: EgressProxyOptions): Promise<EgressProxy> {
  const sockets = new Set<Socket | Duplex>();
  const track = (s: Socket | Duplex) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };

  const forward = async (req: IncomingMessage, res: ServerResponse) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      refuse(res, 400, 'only proxy requests (absolute URLs) are served');
      return;
    }
    const decision = opts.policy().checkUrl(url);
    if (!decision.ok) {
      opts.onRefused?.(url.host, decision.reason);
      refuse(res, 403, decision.reason);
      return;
    }
    const port = url.port === '' ? 80 : Number(url.port);
    try {
      const pin = await checkedAddress(opts.policy(), url.hostname, port, opts.resolve);
      const headers = { ...req.headers };
      delete headers['proxy-connection'];
      delete headers['proxy-authorization'];
      const upstream = httpRequest(
        { host: pin.address, port, path: `${url.pathname}${url.search}`, method: req.method, headers: { ...headers, host: url.host }, agent: false },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.statusMessage, up.rawHeaders);
          up.pipe(res);
        },
      );
      upstream.on('error', () => refuse(res, 502, `${url.host} could not be reached`));
      req.pipe(upstream);
    } catch (err) {
      if (err instanceof EgressRefused) opts.onRefused?.(url.host, err.message);
      refuse(res, err instanceof EgressRefused ? 403 : 502, err instanceof Error ? err.message : 'refused');
    }
  };

  const server: Server = createServer((req, res) => void forward(req, res));
  server.on('connection', track);
  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    track(client);
    client.on('error', () => client.destroy());
    const target = splitHostPort(req.url ?? '');
    const answer = (status: string) => client.end(`HTTP/1.1 ${status}\r\nconnection: close\r\n\r\n`);
    if (!target || target.port === null) {
      answer('400 Bad Request');
      return;
    }
    const { host, port } = target;
    checkedAddress(opts.policy(), host, port, opts.resolve).then(
      (pin) => {
        const upstream = connect({ host: pin.address, port });
        track(upstream);
        upstream.once('connect', () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          if (head.length > 0) upstream.write(head);
          upstream.pipe(client);
          client.pipe(upstream);
        });
        upstream.on('error', () => {
          if (!client.destroyed) answer('502 Bad Gateway');
        });
      },
      (err: unknown) => {
        if (err instanceof EgressRefused) opts.onRefused?.(host, err.message);
        answer(err instanceof EgressRefused ? '403 Forbidden' : '502 Bad Gateway');
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
