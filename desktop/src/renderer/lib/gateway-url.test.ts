import { describe, expect, it } from 'vitest';
import { gatewaySocketUrl } from './gateway-url';

describe('gatewaySocketUrl', () => {
  it('uses the page host and a matching scheme', () => {
    expect(gatewaySocketUrl({ protocol: 'http:', host: '127.0.0.1:4567' })).toBe('ws://127.0.0.1:4567/trpc');
    expect(gatewaySocketUrl({ protocol: 'https:', host: 'box.tail.ts.net' })).toBe('wss://box.tail.ts.net/trpc');
  });

  it('refuses pages that are not served over http(s)', () => {
    expect(() => gatewaySocketUrl({ protocol: 'file:', host: '' })).toThrow(/http/);
  });
});
