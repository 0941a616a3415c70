import { describe, expect, it } from 'vitest';
import { createOriginPolicy } from './origin-policy';

describe('origin policy', () => {
  it('allows the gateway origins, the extra ones and requests without Origin', () => {
    let port = 0;
    const policy = createOriginPolicy({ host: '100.64.0.7', allowOrigins: ['https://app.example'], port: () => port });
    port = 4321;
    for (const ok of [undefined, 'http://127.0.0.1:4321', 'http://localhost:4321', 'http://[::1]:4321', 'http://100.64.0.7:4321', 'https://app.example', 'HTTP://LOCALHOST:4321']) {
      expect(policy.isAllowed(ok), String(ok)).toBe(true);
    }
    for (const bad of ['null', 'http://evil.example', 'http://127.0.0.1:1', 'https://127.0.0.1:4321', 'http://localhost.evil.example:4321', '']) {
      expect(policy.isAllowed(bad), bad).toBe(false);
    }
  });

  it('does not list a wildcard bind address as an origin', () => {
    const policy = createOriginPolicy({ host: '0.0.0.0', allowOrigins: [], port: () => 80 });
    expect(policy.allowed()).toEqual(['http://127.0.0.1', 'http://localhost', 'http://[::1]']);
  });
});
