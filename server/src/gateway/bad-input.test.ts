/**
 * The bad-input corpus: malformed frames, oversized frames, unknown
 * procedures and ids, wrong types, extra keys, huge strings, unauthenticated
 * calls. Each gets a typed error or a refusal, and the store's dump is the
 * same before and after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, LIMITS, WS_CLOSE_UNAUTHORIZED } from '@autoclaw/shared';
import type { DeviceKeyPair } from '../security';
import { getChallenge, openAuthedSocket, openRawSocket, signedParams, startTestGateway } from './test-kit';
import type { RawSocket, TestGateway } from './test-kit';

function errorOf(msg: Record<string, unknown>): { message: string; data: { appCode: string } } {
  const error = msg['error'] as { message: string; data: { appCode: string } } | undefined;
  if (!error) throw new Error(`expected an error, got ${JSON.stringify(msg).slice(0, 300)}`);
  return error;
}

describe('the bad-input corpus', () => {
  let t: TestGateway;
  let key: DeviceKeyPair;
  let socket: RawSocket;
  let sessionId: string;
  let before: string;

  beforeAll(async () => {
    t = await startTestGateway({ options: { authFreeFailures: 1_000 } });
    key = t.addDevice();
    socket = await openAuthedSocket(t.url, key);
    const ensured = await socket.call('mutation', 'sessions.ensure', { name: 'main' });
    sessionId = ((ensured['result'] as { data: { id: string } }).data).id;
    before = t.gateway.store.dump();
  });
  afterAll(async () => {
    socket.ws.close();
    await t.close();
  });

  const bigText = 'x'.repeat(LIMITS.messageChars + 1);
  const cases: Array<[string, string, string, unknown, string]> = [
    ['unknown procedure', 'query', 'nope.nothing', undefined, 'NOT_FOUND'],
    ['unknown top-level procedure', 'mutation', 'constructor', undefined, 'NOT_FOUND'],
    ['prototype path', 'query', '__proto__.toString', undefined, 'NOT_FOUND'],
    ['query called as mutation', 'mutation', 'sessions.list', undefined, 'NOT_FOUND'],
    ['history of an unknown session', 'query', 'chat.history', { sessionId: 'no-such-session' }, 'NOT_FOUND'],
    ['send to an unknown session', 'mutation', 'chat.send', { sessionId: 'no-such-session', clientId: 'abcdefgh-1', text: 'hi' }, 'NOT_FOUND'],
    ['retry an unknown message', 'mutation', 'chat.retry', { messageId: 'no-such-message' }, 'NOT_FOUND'],
    ['approve an unknown tool call', 'mutation', 'chat.approve', { toolCallId: 'no-such-call', approve: true }, 'NOT_FOUND'],
    ['delete an unknown message', 'mutation', 'chat.deleteMessage', { messageId: 'no-such-message' }, 'NOT_FOUND'],
    ['delete an unknown memory', 'mutation', 'memory.delete', { memoryId: 'no-such-memory' }, 'NOT_FOUND'],
    ['rename an unknown session', 'mutation', 'sessions.rename', { sessionId: 'no-such-session', title: 'x' }, 'NOT_FOUND'],
    ['delete an unknown session', 'mutation', 'sessions.delete', { sessionId: 'no-such-session' }, 'NOT_FOUND'],
    ['revoke an unknown device', 'mutation', 'devices.revoke', { deviceId: 'no-such-device' }, 'NOT_FOUND'],
    ['wrong types', 'mutation', 'chat.send', { sessionId: 1, clientId: [], text: {} }, 'BAD_REQUEST'],
    ['null input', 'mutation', 'chat.send', null, 'BAD_REQUEST'],
    ['missing input', 'query', 'chat.history', undefined, 'BAD_REQUEST'],
    ['extra keys', 'mutation', 'sessions.ensure', { name: 'x', admin: true }, 'BAD_REQUEST'],
    ['bad id characters', 'query', 'chat.history', { sessionId: '../../etc/passwd' }, 'BAD_REQUEST'],
    ['huge message', 'mutation', 'chat.send', { sessionId: 'SESSION', clientId: 'abcdefgh-2', text: bigText }, 'BAD_REQUEST'],
    ['empty message', 'mutation', 'chat.send', { sessionId: 'SESSION', clientId: 'abcdefgh-3', text: '' }, 'BAD_REQUEST'],
    ['short client id', 'mutation', 'chat.send', { sessionId: 'SESSION', clientId: 'x', text: 'hi' }, 'BAD_REQUEST'],
    ['huge session name', 'mutation', 'sessions.ensure', { name: 'n'.repeat(10_000) }, 'BAD_REQUEST'],
    ['control characters in a name', 'mutation', 'sessions.ensure', { name: 'a\u0000b' }, 'BAD_REQUEST'],
    ['unknown setting', 'mutation', 'settings.set', { key: 'shell.command', value: 'rm -rf /' }, 'BAD_REQUEST'],
    ['huge setting value', 'mutation', 'settings.set', { key: 'openai.apiKey', value: 'k'.repeat(LIMITS.settingChars + 1) }, 'BAD_REQUEST'],
    ['bad model value', 'mutation', 'settings.set', { key: 'model', value: 'gpt' }, 'BAD_REQUEST'],
    ['bad URL value', 'mutation', 'settings.set', { key: 'openai.baseUrl', value: 'javascript:alert(1)' }, 'BAD_REQUEST'],
    ['memory limit out of range', 'query', 'memory.search', { limit: 1e9 }, 'BAD_REQUEST'],
    ['approve with a string', 'mutation', 'chat.approve', { toolCallId: 'x', approve: 'yes' }, 'BAD_REQUEST'],
  ];

  it.each(cases)('%s → %s', async (_name, method, path, input, expected) => {
    const concrete = JSON.parse(JSON.stringify(input ?? null).replaceAll('"SESSION"', JSON.stringify(sessionId))) as unknown;
    const res = await socket.call(method as 'query' | 'mutation', path, input === undefined ? undefined : concrete);
    const error = errorOf(res);
    expect(ERROR_CODES).toContain(error.data.appCode);
    expect(error.data.appCode).toBe(expected);
    expect(error.message).not.toMatch(/at .*\.ts:\d+/);
    expect(t.gateway.store.dump()).toBe(before);
  });

  it('answers malformed frames with typed errors and keeps the socket', async () => {
    const frames: unknown[] = ['{not json', '[1,2,3]', '"just a string"', '{"id":99,"method":"nope","params":{}}', { method: 'query', params: { path: 'health' } }];
    for (const frame of frames) {
      const count = socket.received.length;
      socket.send(frame);
      await expect.poll(() => socket.received.length, { timeout: 2_000 }).toBeGreaterThan(count);
      const reply = socket.received[socket.received.length - 1] as Record<string, unknown>;
      expect(ERROR_CODES).toContain(errorOf(reply).data.appCode);
    }
    // A binary frame is not a tRPC message either.
    const count = socket.received.length;
    socket.ws.send(Buffer.from([0xff, 0x00, 0x13]), { binary: true });
    await expect.poll(() => socket.received.length, { timeout: 2_000 }).toBeGreaterThan(count);
    expect(ERROR_CODES).toContain(errorOf(socket.received[socket.received.length - 1] as Record<string, unknown>).data.appCode);
    // The socket still works.
    expect((await socket.call('query', 'health'))['result']).toBeDefined();
    expect(t.gateway.store.dump()).toBe(before);
  });

  it('refuses a subscription to an unknown session and stop messages for unknown ids', async () => {
    socket.send({ id: 7_001, method: 'subscription.stop' });
    socket.send({ id: 7_002, method: 'subscription', params: { path: 'chat.events', input: { sessionId: 'no-such-session' } } });
    const reply = await socket.next((m) => m['id'] === 7_002 && 'error' in m);
    expect(errorOf(reply).data.appCode).toBe('NOT_FOUND');
    expect(t.gateway.store.dump()).toBe(before);
  });

  it('closes the socket on an oversized frame (1009) without touching the store', async () => {
    const victim = await openAuthedSocket(t.url, key);
    expect((await victim.call('query', 'health'))['result']).toBeDefined();
    const afterAuth = t.gateway.store.dump();
    victim.send({ id: 1, method: 'mutation', params: { path: 'chat.send', input: { sessionId, clientId: 'abcdefgh-9', text: 'y'.repeat(LIMITS.wsFrameBytes + 10) } } });
    expect((await victim.closed).code).toBe(1009);
    expect(t.gateway.store.dump()).toBe(afterAuth);
  });

  it('refuses every call on a socket that failed to authenticate', async () => {
    const dump = t.gateway.store.dump();
    const { nonce } = await getChallenge(t.url);
    const bad = await openRawSocket(t.wsUrl);
    bad.send({ method: 'connectionParams', data: { ...signedParams(key, nonce), signature: 'B'.repeat(86) } });
    bad.send({ id: 1, method: 'mutation', params: { path: 'sessions.create', input: { title: 'pwned' } } });
    bad.send({ id: 2, method: 'mutation', params: { path: 'settings.set', input: { key: 'openai.apiKey', value: 'x' } } });
    expect((await bad.closed).code).toBe(WS_CLOSE_UNAUTHORIZED);
    expect(bad.received.some((m) => typeof m === 'object' && m !== null && 'result' in m)).toBe(false);
    expect(t.gateway.store.dump()).toBe(dump);
  });
});
