/** CORS on /auth/*: allowed origins may read challenges and redeem tickets from another origin; others may not. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway } from './test-kit';
import type { TestGateway } from './test-kit';

const MANAGER_UI = 'http://127.0.0.1:18780';
const FOREIGN = 'http://evil.example';

describe('CORS of the device-auth endpoints', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ config: { allowOrigins: [MANAGER_UI, 'app://autoclaw'] } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('lets an allowed origin read a challenge, and only that origin', async () => {
    for (const origin of [MANAGER_UI, 'app://autoclaw']) {
      const res = await fetch(`${t.url}/auth/challenge`, { headers: { origin } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      expect(res.headers.get('vary')).toMatch(/origin/i);
    }
    const foreign = await fetch(`${t.url}/auth/challenge`, { headers: { origin: FOREIGN } });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers the preflight of a JSON POST for allowed origins and refuses others', async () => {
    const preflight = (origin: string, path: string) =>
      fetch(`${t.url}${path}`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    for (const path of ['/auth/ticket', '/auth/pair']) {
      const ok = await preflight(MANAGER_UI, path);
      expect(ok.status).toBe(204);
      expect(ok.headers.get('access-control-allow-origin')).toBe(MANAGER_UI);
      expect(ok.headers.get('access-control-allow-methods')).toBe('POST');
      expect(ok.headers.get('access-control-allow-headers')).toBe('content-type');
      const refused = await preflight(FOREIGN, path);
      expect(refused.status).toBe(403);
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('adds nothing elsewhere or for same-origin requests', async () => {
    const health = await fetch(`${t.url}/healthz`, { headers: { origin: MANAGER_UI } });
    expect(health.headers.get('access-control-allow-origin')).toBeNull();
    const same = await fetch(`${t.url}/auth/challenge`);
    expect(same.headers.get('access-control-allow-origin')).toBeNull();
  });
});
