import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { isNonPublicAddress } from './address';
import { EgressRefused, egressFetch } from './egress-fetch';
import { startEgressProxy } from './egress-proxy';
import { HostPolicy } from './host-policy';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ port: number; url: string }> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  const port = (server.address() as { port: number }).port;
  return { port, url: `http://127.0.0.1:${port}` };
}

const get = (url: string) => ({ url, method: 'GET', headers: [] as Array<[string, string]>, body: null, redirect: 'follow' as const });
const signal = () => new AbortController().signal;

describe('addresses', () => {
  it.each([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.20.0.1', true],
    ['192.168.1.20', true],
    ['169.254.169.254', true],
    ['100.100.1.1', true],
    ['0.0.0.0', true],
    ['::1', true],
    ['fe80::1', true],
    ['fd00::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['64:ff9b::a00:1', true],
    ['8.8.8.8', false],
    ['1.1.1.1', false],
    ['2606:4700:4700::1111', false],
    ['::ffff:8.8.8.8', false],
    ['not-an-ip', true],
  ])('%s is non-public: %s', (address, expected) => {
    expect(isNonPublicAddress(address)).toBe(expected);
  });
});

describe('host policy', () => {
  it('matches names, ports, subdomains and settings', () => {
    const policy = new HostPolicy(['api.example.com', '*.github.io', 'files.example.com:8443', 'setting:bridge'], (name) =>
      name === 'bridge' ? { kind: 'host', value: '192.168.1.20' } : undefined,
    );
    expect(policy.check('api.example.com', 443)).toEqual({ ok: true, allowNonPublic: false });
    expect(policy.check('API.example.com.', 80).ok).toBe(true);
    expect(policy.check('api.example.com', 8080).ok).toBe(false);
    expect(policy.check('evil.example.com', 443).ok).toBe(false);
    expect(policy.check('a.github.io', 443).ok).toBe(true);
    expect(policy.check('github.io', 443).ok).toBe(false);
    expect(policy.check('files.example.com', 8443).ok).toBe(true);
    expect(policy.check('files.example.com', 443).ok).toBe(false);
    expect(policy.check('192.168.1.20', 80)).toEqual({ ok: true, allowNonPublic: true });
    expect(new HostPolicy(['*']).check('127.0.0.1', 443).ok).toBe(false);
  });
});

describe('egress fetch', () => {
  it('refuses a declared name that resolves to a non-public address, and a mixed answer too', async () => {
    const policy = new HostPolicy(['api.example.com', 'mixed.example.com']);
    const resolve = async (host: string) => (host === 'api.example.com' ? ['10.0.0.7'] : ['93.184.216.34', '127.0.0.1']);
    await expect(egressFetch(policy, get('https://api.example.com/x'), { signal: signal(), resolve })).rejects.toThrow(
      'api.example.com resolves to 10.0.0.7, a non-public address this skill did not declare',
    );
    await expect(egressFetch(policy, get('https://mixed.example.com/x'), { signal: signal(), resolve })).rejects.toThrow(EgressRefused);
  });

  it('resolves a declared name itself, once, and refuses it when it points at loopback', async () => {
    const target = await listen((req, res) => res.end(`host header ${req.headers.host}`));
    const policy = new HostPolicy([`pinned.test:${target.port}`]);
    let lookups = 0;
    const res = await egressFetch(policy, get(`http://pinned.test:${target.port}/`), {
      signal: signal(),
      // A private answer is refused for names; here the test server's loopback is declared by a setting-like rule.
      resolve: async () => {
        lookups += 1;
        return ['127.0.0.1'];
      },
    }).catch((err: Error) => err);
    // pinned.test is a name, not an address: loopback is refused even though the name is declared.
    expect(res).toBeInstanceOf(EgressRefused);
    expect(lookups).toBe(1);
  });

  it('follows redirects within the declared hosts, decodes gzip, caps bodies', async () => {
    const target = await listen((req, res) => {
      if (req.url === '/start') {
        res.writeHead(301, { location: '/end' });
        res.end();
      } else if (req.url === '/end') {
        res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain' });
        res.end(gzipSync('hello after a redirect'));
      } else res.end('x'.repeat(5_000));
    });
    const policy = new HostPolicy([`127.0.0.1:${target.port}`]);
    const res = await egressFetch(policy, get(`${target.url}/start`), { signal: signal() });
    expect(Buffer.from(res.body).toString()).toBe('hello after a redirect');
    expect(res).toMatchObject({ status: 200, redirected: true, url: `${target.url}/end` });
    expect(res.headers.find(([n]) => n === 'content-encoding')).toBeUndefined();
    await expect(egressFetch(policy, get(`${target.url}/big`), { signal: signal(), maxBytes: 1_000 })).rejects.toThrow(/larger than 1000 bytes/);
  });
});

describe('egress proxy (for a skill\'s Chromium)', () => {
  it('tunnels CONNECT and forwards requests only to declared hosts', async () => {
    const allowed = await listen((_req, res) => res.end('allowed page'));
    const other = await listen((_req, res) => res.end('LEAKED'));
    const proxy = await startEgressProxy({ policy: () => new HostPolicy([`127.0.0.1:${allowed.port}`]) });
    cleanups.push(() => proxy.close());
    const viaProxy = (url: string) =>
      new Promise<string>((resolve, reject) => {
        const p = new URL(proxy.url);
        const s = connect(Number(p.port), p.hostname, () => s.write(`GET ${url} HTTP/1.1\r\nhost: ${new URL(url).host}\r\nconnection: close\r\n\r\n`));
        let data = '';
        s.on('data', (c) => (data += c));
        s.on('end', () => resolve(data));
        s.on('error', reject);
      });
    expect(await viaProxy(`${allowed.url}/`)).toMatch(/^HTTP\/1\.1 200[\s\S]*allowed page$/);
    const refused = await viaProxy(`${other.url}/`);
    expect(refused).toMatch(/^HTTP\/1\.1 403/);
    expect(refused).not.toContain('LEAKED');
    const connectTo = (port: number) =>
      new Promise<string>((resolve) => {
        const p = new URL(proxy.url);
        const s = connect(Number(p.port), p.hostname, () => s.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n\r\n`));
        s.once('data', (c) => {
          resolve(c.toString().split('\r\n')[0]!);
          s.destroy();
        });
      });
    expect(await connectTo(allowed.port)).toBe('HTTP/1.1 200 Connection Established');
    expect(await connectTo(other.port)).toBe('HTTP/1.1 403 Forbidden');
  });
});
