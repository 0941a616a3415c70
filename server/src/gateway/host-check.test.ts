/**
 * Issue 8, item 6: DNS rebinding. A page on an attacker's name that resolves
 * to 127.0.0.1 reaches a loopback server with that name in `Host`; the
 * gateway and the manager refuse it (403, FORBIDDEN, saying what to do) on
 * every HTTP route and on the WebSocket upgrade, and answer their own names
 * and those given with --allow-host.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestManager } from '../manager/test-kit';
import type { TestManager } from '../manager/test-kit';
import { startTestGateway } from './test-kit';
import type { TestGateway } from './test-kit';

interface RawAnswer {
  status: number;
  body: string;
}

/** One HTTP request with a Host header of our choosing (fetch does not allow setting it). */
function rawGet(url: string, path: string, host: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: target.hostname, port: target.port, path, method: 'GET', headers: { host, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '' });
    });
    req.on('error', reject);
    req.end();
  });
}

const upgrade = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' };

let gw: TestGateway | undefined;
let mgr: TestManager | undefined;
afterEach(async () => {
  await gw?.close();
  await mgr?.close();
  gw = undefined;
  mgr = undefined;
});

describe('the Host header check', () => {
  it('the gateway refuses a forged Host on HTTP routes and the WebSocket upgrade, and answers its own names', async () => {
    gw = await startTestGateway({ config: { allowHosts: ['chat.example.org'] } });
    const port = gw.gateway.port;
    for (const path of ['/healthz', '/readyz', '/auth/challenge', '/', '/trpc']) {
      const forged = await rawGet(gw.url, path, `evil.example:${port}`);
      expect([path, forged.status]).toEqual([path, 403]);
      expect(JSON.parse(forged.body)).toMatchObject({ error: { code: 'FORBIDDEN', message: expect.stringMatching(/evil\.example.*--allow-host/) } });
    }
    expect((await rawGet(gw.url, '/trpc', `evil.example:${port}`, upgrade)).status).toBe(403);
    expect((await rawGet(gw.url, '/healthz', `localhost:${port}`)).status).toBe(200);
    expect((await rawGet(gw.url, '/healthz', `127.0.0.1:${port}`)).status).toBe(200);
    expect((await rawGet(gw.url, '/healthz', `localhost:${port + 1}`)).status).toBe(403);
    expect((await rawGet(gw.url, '/healthz', 'chat.example.org')).status).toBe(200);
    // A real client (its Host is 127.0.0.1:PORT) still connects.
    expect((await rawGet(gw.url, '/trpc?connectionParams=1', `127.0.0.1:${port}`, upgrade)).status).toBe(101);
  });

  it('the manager refuses a forged Host on HTTP routes and the WebSocket upgrade, and answers --allow-host names', async () => {
    mgr = await startTestManager({ config: { allowHosts: ['manager.example.org:8443'] } });
    const port = new URL(mgr.url).port;
    for (const path of ['/healthz', '/trpc/health', '/', '/setup']) {
      const forged = await rawGet(mgr.url, path, `evil.example:${port}`);
      expect([path, forged.status]).toEqual([path, 403]);
      expect(JSON.parse(forged.body)).toMatchObject({ error: { code: 'FORBIDDEN', message: expect.stringMatching(/--allow-host/) } });
    }
    expect((await rawGet(mgr.url, '/trpc', `evil.example:${port}`, upgrade)).status).toBe(403);
    expect((await rawGet(mgr.url, '/healthz', `localhost:${port}`)).status).toBe(200);
    expect((await rawGet(mgr.url, '/healthz', 'manager.example.org:8443')).status).toBe(200);
    expect((await rawGet(mgr.url, '/healthz', 'manager.example.org')).status).toBe(403);
  });
});
