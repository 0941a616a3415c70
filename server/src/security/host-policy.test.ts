import { describe, expect, it } from 'vitest';
import { createHostPolicy, parseHostHeader } from './host-policy';

describe('host policy', () => {
  it('parses Host headers and refuses malformed ones', () => {
    expect(parseHostHeader('LocalHost:8080')).toEqual({ name: 'localhost', port: 8080 });
    expect(parseHostHeader('[::1]:9')).toEqual({ name: '[::1]', port: 9 });
    expect(parseHostHeader('example.com.')).toEqual({ name: 'example.com', port: null });
    for (const bad of ['', '::1', 'a b', 'x:99999', 'x:', '[::1', 'evil.example:80:80', 'a/b']) expect(parseHostHeader(bad), bad).toBeNull();
  });

  it('on loopback: only the loopback names and the bound host, with the listening port', () => {
    const p = createHostPolicy({ host: '127.0.0.1', port: () => 4321 });
    for (const ok of ['127.0.0.1:4321', 'localhost:4321', '[::1]:4321', 'LOCALHOST:4321', undefined]) expect(p.isAllowed(ok), String(ok)).toBe(true);
    for (const bad of ['evil.example:4321', 'evil.example', 'localhost:80', 'localhost', '127.0.0.1:1', '10.0.0.1:4321', 'localhost.evil.example:4321', '']) {
      expect(p.isAllowed(bad), bad).toBe(false);
    }
    expect(p.describe()).toBe('localhost:4321, 127.0.0.1:4321, [::1]:4321');
  });

  it('adds the hosts of allowed origins, --allow-host names, IP literals on a wildcard bind and ts.net names with Tailscale', () => {
    const p = createHostPolicy({
      host: '0.0.0.0',
      port: () => 18789,
      allowOrigins: ['https://app.example', 'http://ui.example:8080', 'app://autoclaw'],
      allowHosts: ['inst.ns.svc', 'proxy.example:9000'],
      tailnet: true,
    });
    for (const ok of ['app.example', 'app.example:443', 'ui.example:8080', 'inst.ns.svc:18789', 'inst.ns.svc', 'proxy.example:9000', '10.1.2.3:18789', '[fd00::1]:18789', 'box.tail1234.ts.net:18789']) {
      expect(p.isAllowed(ok), ok).toBe(true);
    }
    for (const bad of ['app.example:8443', 'ui.example', 'proxy.example:9001', 'evil.example:18789', 'ts.net.evil.example', 'autoclaw']) expect(p.isAllowed(bad), bad).toBe(false);
  });
});
