/**
 * The gateway observed from outside: /metrics in the Prometheus text format
 * (parsed strictly) and who may read it, request ids from the client into
 * the log line of the turn, and no secret in any log line of a whole turn.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../testing';
import type { PromFamily } from '../testing';
import { createLogger } from './logger';
import { openAuthedSocket, startTestGateway } from './test-kit';
import type { TestGateway } from './test-kit';

const API_KEY = 'sk-ant-api03-very-secret-key-0123456789';
const METRICS_TOKEN = 'metrics-token-abcdefghijklmnop';

let t: TestGateway | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

async function start(lines: string[]): Promise<TestGateway> {
  t = await startTestGateway({
    apiKey: API_KEY,
    config: { metricsToken: METRICS_TOKEN },
    options: { logger: createLogger({ level: 'debug', write: (line) => void lines.push(line) }), rendererDir: join('/nonexistent', 'renderer') },
  });
  return t;
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<{ status: number; families: Map<string, PromFamily> | null }> {
  const res = await fetch(`${url}/metrics`, { headers });
  const text = await res.text();
  return { status: res.status, families: res.ok ? parsePrometheusText(text) : null };
}

function sample(families: Map<string, PromFamily> | null, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const family of families?.values() ?? []) {
    const hit = family.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    if (hit) return hit.value;
  }
  return undefined;
}

/** Waits (on the turn's own events, not a timer) until the log has a line matching `pred`. */
async function lineWhere(lines: string[], pred: (entry: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  for (let i = 0; i < 1000; i++) {
    const hit = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find(pred);
    if (hit) return hit;
    await new Promise((r) => setImmediate(r));
    if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no such log line in:\n${lines.join('')}`);
}

describe('gateway observability', () => {
  it('counts whole turns in /metrics, logs them under the client request id, and no log line carries a secret', async () => {
    const lines: string[] = [];
    const gw = await start(lines);
    const key = gw.addDevice('phone');
    const socket = await openAuthedSocket(gw.url, key, { 'x-request-id': 'client-req-0001' });
    const session = await socket.call('mutation', 'sessions.create', {});
    const sessionId = ((session['result'] as { data: { id: string } }).data).id;

    const sent = await socket.call('mutation', 'chat.send', { sessionId, clientId: 'client-msg-0001', text: 'hello there' });
    const messageId = (sent['result'] as { data: { message: { id: string } } }).data.message.id;
    const finished = await lineWhere(lines, (e) => e['msg'] === 'turn finished' && e['messageId'] === messageId);
    expect(finished).toMatchObject({ requestId: 'client-req-0001', sessionId, status: 'done' });
    // The key did reach the provider (so a leak was possible), and went nowhere else.
    const sentHeaders = gw.wire.requests.at(-1)?.headers ?? {};
    expect(`${String(sentHeaders['x-api-key'])} ${String(sentHeaders.authorization)}`).toContain(API_KEY);

    // A provider error is counted by its code.
    gw.wire.enqueue({ kind: 'http_error', status: 401, type: 'authentication_error' });
    const failed = await socket.call('mutation', 'chat.send', { sessionId, clientId: 'client-msg-0002', text: 'again' });
    const failedId = (failed['result'] as { data: { message: { id: string } } }).data.message.id;
    await lineWhere(lines, (e) => e['msg'] === 'turn finished' && e['messageId'] === failedId);

    const { status, families } = await scrape(gw.url);
    expect(status).toBe(200);
    expect(sample(families, 'autoclaw_gateway_turns_total', { status: 'done' })).toBe(1);
    expect(sample(families, 'autoclaw_gateway_turns_total', { status: 'failed' })).toBe(1);
    expect(sample(families, 'autoclaw_gateway_provider_errors_total', { code: 'PROVIDER_AUTH' })).toBe(1);
    expect(sample(families, 'autoclaw_gateway_turn_duration_seconds_count')).toBe(2);
    expect(sample(families, 'autoclaw_gateway_spend_usd')).toBeGreaterThanOrEqual(0);
    expect(sample(families, 'autoclaw_gateway_queue_depth')).toBe(0);
    expect(sample(families, 'autoclaw_gateway_clients_connected')).toBe(1);
    expect(sample(families, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    socket.ws.close();
    const secrets = [API_KEY, key.privateKey, METRICS_TOKEN];
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) for (const secret of secrets) expect(line).not.toContain(secret);
    for (const line of lines) expect(line).not.toMatch(/"signature":"(?!\[redacted\])/);
  });

  it('answers /metrics to a direct loopback peer or the metrics token, never through a proxy without it', async () => {
    const gw = await start([]);
    expect((await scrape(gw.url)).status).toBe(200);
    const proxied = await scrape(gw.url, { 'x-forwarded-for': '203.0.113.9' });
    expect(proxied.status).toBe(403);
    expect((await scrape(gw.url, { 'x-forwarded-for': '203.0.113.9', authorization: 'Bearer wrong-token-wrong-token' })).status).toBe(403);
    expect((await scrape(gw.url, { 'x-forwarded-for': '203.0.113.9', authorization: `Bearer ${METRICS_TOKEN}` })).status).toBe(200);
    expect((await scrape(gw.url, { 'tailscale-user-login': 'alice@example.com' })).status).toBe(403);
  });

  it('gives every HTTP response a request id: the client one when well-formed, else a new one', async () => {
    const gw = await start([]);
    const given = await fetch(`${gw.url}/healthz`, { headers: { 'x-request-id': 'abc-12345678' } });
    expect(given.headers.get('x-request-id')).toBe('abc-12345678');
    const forged = await fetch(`${gw.url}/healthz`, { headers: { 'x-request-id': 'bad id "}{ quoted' } });
    expect(forged.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(200);
  });
});
