import { describe, expect, it } from 'vitest';
import { doorUrlOf, fetchAt, serviceOrigin, socketUrlOf } from './service-url';

describe('serviceOrigin', () => {
  it('keeps https anywhere and http on loopback, as an origin', () => {
    expect(serviceOrigin('http://127.0.0.1:4100', 'gateway')).toBe('http://127.0.0.1:4100');
    expect(serviceOrigin('http://localhost:4100/', 'gateway')).toBe('http://localhost:4100');
    expect(serviceOrigin('https://box.tail1234.ts.net/', 'gateway')).toBe('https://box.tail1234.ts.net');
    expect(serviceOrigin('http://[::1]:9/', 'manager')).toBe('http://[::1]:9');
  });

  it('refuses plain http beyond loopback, other schemes, credentials and queries', () => {
    expect(() => serviceOrigin('http://example.com', 'gateway')).toThrow(/https/);
    expect(() => serviceOrigin('ws://127.0.0.1:1', 'gateway')).toThrow(/https/);
    expect(() => serviceOrigin('javascript:alert(1)', 'gateway')).toThrow(/https/);
    expect(() => serviceOrigin('https://u:p@example.com', 'gateway')).toThrow(/credentials/);
    expect(() => serviceOrigin('https://example.com/?x=1', 'gateway')).toThrow(/query/);
    expect(() => serviceOrigin('not a url', 'manager')).toThrow(/not a URL/);
  });
});

describe('socketUrlOf', () => {
  it('derives the tRPC socket with a matching scheme', () => {
    expect(socketUrlOf('http://127.0.0.1:4100')).toBe('ws://127.0.0.1:4100/trpc');
    expect(socketUrlOf('https://box.tail1234.ts.net')).toBe('wss://box.tail1234.ts.net/trpc');
  });

  it('keeps the door path of an instance behind the manager', () => {
    expect(socketUrlOf('https://manager.example/i/inst_1')).toBe('wss://manager.example/i/inst_1/trpc');
  });
});

describe('doorUrlOf', () => {
  it('puts the door path under the manager origin, and takes nothing else for a path', () => {
    expect(doorUrlOf('https://manager.example/', '/i/inst_1')).toBe('https://manager.example/i/inst_1');
    expect(() => doorUrlOf('https://manager.example', '//evil.example/i/x')).toThrow(/door path/);
    expect(() => doorUrlOf('https://manager.example', '/i/x/../../admin')).toThrow(/door path/);
    expect(() => doorUrlOf('http://example.com', '/i/x')).toThrow(/https/);
  });
});

describe('fetchAt', () => {
  it('sends paths to the service as CORS requests without credentials', async () => {
    const seen: Array<{ url: string; init: RequestInit | undefined }> = [];
    const record: typeof fetch = async (input, init) => {
      seen.push({ url: String(input), init });
      return new Response('{}');
    };
    await fetchAt(record, 'http://127.0.0.1:4100')('/auth/challenge', { cache: 'no-store' });
    expect(seen).toEqual([{ url: 'http://127.0.0.1:4100/auth/challenge', init: { cache: 'no-store', mode: 'cors', credentials: 'omit' } }]);
  });

  it('sends paths under the door with a fresh door pass on each request', async () => {
    const seen: string[] = [];
    const record: typeof fetch = async (input) => {
      seen.push(String(input));
      return new Response('{}');
    };
    let n = 0;
    const at = fetchAt(record, 'https://manager.example/i/inst_1', async () => `p.${++n}`);
    await at('/auth/challenge');
    await at('/auth/ticket?x=1');
    expect(seen).toEqual(['https://manager.example/i/inst_1/auth/challenge?door_pass=p.1', 'https://manager.example/i/inst_1/auth/ticket?x=1&door_pass=p.2']);
  });

  it('refuses anything that could point elsewhere', async () => {
    const never: typeof fetch = async () => {
      throw new Error('must not be called');
    };
    const at = fetchAt(never, 'http://127.0.0.1:4100');
    await expect(at('https://evil.example/auth/challenge')).rejects.toThrow(/path/);
    await expect(at('//evil.example/auth/challenge')).rejects.toThrow(/path/);
    await expect(at(new URL('http://127.0.0.1:4100/x'))).rejects.toThrow(/path/);
  });
});
