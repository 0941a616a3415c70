/**
 * The manager observed from outside: /metrics in the Prometheus text format
 * (parsed strictly) with instances by state from the database, who may read
 * it, /healthz and /readyz, request ids on every response and in the log,
 * and no password, session token or operator key in any log line.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../testing';
import type { PromFamily } from '../testing';
import { bundleGatewayCommand, killGateways, waitFor } from './drivers/local/test-support';
import { createLogger } from './gateway-parts';
import { operatorKeyPath } from './paths';
import { startTestManager } from './test-kit';
import type { TestManager } from './test-kit';

const METRICS_TOKEN = 'manager-metrics-token-0123456789';
const PASSWORD = 'correct horse battery staple';

function sample(families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const family of families.values()) {
    const hit = family.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    if (hit) return hit.value;
  }
  return undefined;
}

describe('manager /metrics, health, request ids and logs', () => {
  let t: TestManager;
  let dispose: () => void;
  const lines: string[] = [];

  beforeAll(async () => {
    const bundle = await bundleGatewayCommand();
    dispose = bundle.dispose;
    t = await startTestManager({
      config: { metricsToken: METRICS_TOKEN },
      options: { logger: createLogger({ level: 'debug', write: (l) => void lines.push(l) }), instances: { localDriver: { command: bundle.command } } },
    });
  });
  afterAll(async () => {
    killGateways(t.dir);
    await t.close();
    dispose();
  });

  it('reports instances by state from the database, the leader and process metrics', async () => {
    const token = (await t.setupOwner('owner@example.com', PASSWORD)).token;
    const api = t.client(token);
    const created = await api.instances.create.mutate();
    await waitFor('running', async () => (await api.instances.mine.query())?.state === 'running');

    const res = await fetch(`${t.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusText(await res.text());
    expect(sample(families, 'autoclaw_manager_instances', { state: 'running' })).toBe(1);
    expect(sample(families, 'autoclaw_manager_instances', { state: 'failed' })).toBe(0);
    expect(families.get('autoclaw_manager_instances')?.samples.length).toBeGreaterThanOrEqual(10);
    expect(sample(families, 'autoclaw_manager_instance_restarts')).toBe(0);
    expect(sample(families, 'autoclaw_manager_leader')).toBe(1);
    expect(families.get('autoclaw_manager_wakes_total')?.type).toBe('counter');
    expect(families.get('autoclaw_manager_wake_duration_seconds')?.type).toBe('histogram');
    expect(sample(families, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    // Every line of sign-in and provisioning: no password, session token or operator key.
    const operatorKey = readFileSync(operatorKeyPath(t.dir)).toString('base64url');
    expect(created.owner).toBe('owner@example.com');
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      expect(line).not.toContain(PASSWORD);
      expect(line).not.toContain(token);
      expect(line).not.toContain(operatorKey);
      expect(line).not.toContain(METRICS_TOKEN);
    }
  });

  it('answers /metrics to a direct loopback peer or the metrics token only', async () => {
    expect((await fetch(`${t.url}/metrics`, { headers: { 'x-forwarded-for': '198.51.100.4' } })).status).toBe(403);
    const refused = await fetch(`${t.url}/metrics`, { headers: { forwarded: 'for=198.51.100.4', authorization: 'Bearer nope-nope-nope-nope' } });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    expect((await fetch(`${t.url}/metrics`, { headers: { forwarded: 'for=198.51.100.4', authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(200);
  });

  it('answers /healthz and /readyz, and carries the request id into the response and the log', async () => {
    expect(await (await fetch(`${t.url}/healthz`)).json()).toMatchObject({ ok: true, service: 'autoclaw-manager' });
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
    const res = await fetch(`${t.url}/trpc/auth.me`, { headers: { 'x-request-id': 'req-from-the-app-42' } });
    expect(res.headers.get('x-request-id')).toBe('req-from-the-app-42');
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e['msg'] === 'request' && e['requestId'] === 'req-from-the-app-42');
    expect(logged).toMatchObject({ method: 'GET', path: '/trpc/auth.me', status: res.status });
  });
});
