import { describe, expect, it } from 'vitest';
import { MANAGER_CONTENT_SECURITY_POLICY } from './csp';

const directives = new Map(
  MANAGER_CONTENT_SECURITY_POLICY.split('; ').map((d) => {
    const [name = '', ...values] = d.split(' ');
    return [name, values] as const;
  }),
);

describe('the manager UI CSP', () => {
  it('keeps scripts, styles, frames and plugins locked down', () => {
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('style-src')).toEqual(["'self'"]);
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(MANAGER_CONTENT_SECURITY_POLICY).not.toMatch(/unsafe/);
    for (const values of directives.values()) expect(values).not.toContain('*');
  });

  it('lets the page reach gateways on loopback and the Tailnet, and nothing else', () => {
    expect(directives.get('connect-src')).toEqual([
      "'self'",
      'http://127.0.0.1:*',
      'ws://127.0.0.1:*',
      'http://localhost:*',
      'ws://localhost:*',
      'https://*.ts.net',
      'wss://*.ts.net',
    ]);
  });
});
