/**
 * The malformed-input corpus on every manager procedure: wrong types, null,
 * extra keys, prototype keys, huge and control-character strings, bad
 * tokens, unknown procedures, malformed bodies and frames. Each gets a typed
 * error (an AppError code in data.appCode) and the database's dump is the
 * same before and after.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ERROR_CODES } from '@autoclaw/shared';
import { operatorKeyPath } from './paths';
import { rawCall, startTestManager } from './test-kit';
import type { TestManager } from './test-kit';

const PW = 'correct horse battery';
type Who = 'anon' | 'owner' | 'operator';
type Case = [name: string, method: 'GET' | 'POST', path: string, who: Who, input: unknown, expected: string];

const huge = 'x'.repeat(20_000);
const TOKEN = 'acs_' + 'Q'.repeat(43);

/** Inputs no procedure with an object input accepts. */
function generic(path: string, method: 'GET' | 'POST', who: Who): Case[] {
  return [
    [`${path}: a number`, method, path, who, 42, 'BAD_REQUEST'],
    [`${path}: a string`, method, path, who, 'hello', 'BAD_REQUEST'],
    [`${path}: an array`, method, path, who, [1, 2], 'BAD_REQUEST'],
    [`${path}: null`, method, path, who, null, 'BAD_REQUEST'],
    [`${path}: extra keys`, method, path, who, { admin: true }, 'BAD_REQUEST'],
    [`${path}: a prototype key`, method, path, who, JSON.parse('{"__proto__":{"role":"owner"}}'), 'BAD_REQUEST'],
    // In a query's URL, that much is refused by the HTTP parser already.
    [`${path}: a huge key`, method, path, who, { [huge]: 1 }, method === 'GET' ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST'],
  ];
}

const cases: Case[] = [
  ...generic('auth.signUp', 'POST', 'anon'),
  ['signUp: bad email', 'POST', 'auth.signUp', 'anon', { email: 'not-an-email', password: PW }, 'BAD_REQUEST'],
  ['signUp: control characters in the email', 'POST', 'auth.signUp', 'anon', { email: 'a\u0000b@example.com', password: PW }, 'BAD_REQUEST'],
  ['signUp: huge email', 'POST', 'auth.signUp', 'anon', { email: `${huge}@example.com`, password: PW }, 'BAD_REQUEST'],
  ['signUp: short password', 'POST', 'auth.signUp', 'anon', { email: 'n@example.com', password: 'short' }, 'BAD_REQUEST'],
  ['signUp: blank password', 'POST', 'auth.signUp', 'anon', { email: 'n@example.com', password: '          ' }, 'BAD_REQUEST'],
  ['signUp: huge password', 'POST', 'auth.signUp', 'anon', { email: 'n@example.com', password: huge }, 'BAD_REQUEST'],
  ['signUp: password of the wrong type', 'POST', 'auth.signUp', 'anon', { email: 'n@example.com', password: 12345678 }, 'BAD_REQUEST'],
  ['signUp: malformed invite code', 'POST', 'auth.signUp', 'anon', { email: 'n@example.com', password: PW, inviteCode: "' OR 1=1 --" }, 'BAD_REQUEST'],
  ['signUp: a query', 'GET', 'auth.signUp', 'anon', { email: 'n@example.com', password: PW }, 'BAD_REQUEST'],
  ...generic('auth.signIn', 'POST', 'anon'),
  ['signIn: missing password', 'POST', 'auth.signIn', 'anon', { email: 'owner@example.com' }, 'BAD_REQUEST'],
  ['signIn: empty password', 'POST', 'auth.signIn', 'anon', { email: 'owner@example.com', password: '' }, 'BAD_REQUEST'],
  ['signIn: object password', 'POST', 'auth.signIn', 'anon', { email: 'owner@example.com', password: { $ne: null } }, 'BAD_REQUEST'],
  ['signIn: email list', 'POST', 'auth.signIn', 'anon', { email: ['owner@example.com'], password: PW }, 'BAD_REQUEST'],
  ...generic('auth.refresh', 'POST', 'anon'),
  ['refresh: malformed token', 'POST', 'auth.refresh', 'anon', { token: '../../etc/passwd' }, 'BAD_REQUEST'],
  ['refresh: unknown token', 'POST', 'auth.refresh', 'anon', { token: TOKEN }, 'UNAUTHORIZED'],
  ['signOut: signed out', 'POST', 'auth.signOut', 'anon', undefined, 'UNAUTHORIZED'],
  ['me: signed out', 'GET', 'auth.me', 'anon', undefined, 'UNAUTHORIZED'],
  ['me: as a mutation', 'POST', 'auth.me', 'owner', undefined, 'BAD_REQUEST'],
  ...generic('auth.changePassword', 'POST', 'owner'),
  ['changePassword: signed out', 'POST', 'auth.changePassword', 'anon', { currentPassword: PW, newPassword: 'new password 1' }, 'UNAUTHORIZED'],
  ['changePassword: short new password', 'POST', 'auth.changePassword', 'owner', { currentPassword: PW, newPassword: 'x' }, 'BAD_REQUEST'],
  ['changePassword: huge current password', 'POST', 'auth.changePassword', 'owner', { currentPassword: huge, newPassword: 'new password 1' }, 'BAD_REQUEST'],
  ...generic('auth.setupStatus', 'GET', 'anon').filter(([name]) => !name.endsWith(': null')),
  ['setupStatus: malformed token', 'GET', 'auth.setupStatus', 'anon', { token: 'stp_<script>' }, 'BAD_REQUEST'],
  ...generic('auth.completeSetup', 'POST', 'anon'),
  ['completeSetup: unknown token', 'POST', 'auth.completeSetup', 'anon', { token: 'stp_' + 'Z'.repeat(43), email: 'x@example.com', password: PW }, 'CONFLICT'],
  ['completeSetup: missing email', 'POST', 'auth.completeSetup', 'anon', { token: 'stp_' + 'Z'.repeat(43), password: PW }, 'BAD_REQUEST'],
  ...generic('invites.create', 'POST', 'owner'),
  ['invites.create: signed out', 'POST', 'invites.create', 'anon', {}, 'UNAUTHORIZED'],
  ['invites.create: ttl out of range', 'POST', 'invites.create', 'owner', { ttlHours: 1e9 }, 'BAD_REQUEST'],
  ['invites.create: fractional ttl', 'POST', 'invites.create', 'owner', { ttlHours: 1.5 }, 'BAD_REQUEST'],
  ['invites.create: bad email', 'POST', 'invites.create', 'owner', { email: 'nope' }, 'BAD_REQUEST'],
  ['invites.list: signed out', 'GET', 'invites.list', 'anon', undefined, 'UNAUTHORIZED'],
  ...generic('audit.list', 'GET', 'owner'),
  ['audit.list: signed out', 'GET', 'audit.list', 'anon', undefined, 'UNAUTHORIZED'],
  ['audit.list: negative seq', 'GET', 'audit.list', 'owner', { afterSeq: -1 }, 'BAD_REQUEST'],
  ['audit.list: huge limit', 'GET', 'audit.list', 'owner', { limit: 1e9 }, 'BAD_REQUEST'],
  ['audit.list: string limit', 'GET', 'audit.list', 'owner', { limit: '10' }, 'BAD_REQUEST'],
  ['audit.verify: signed out', 'GET', 'audit.verify', 'anon', undefined, 'UNAUTHORIZED'],
  ...generic('operator.createUser', 'POST', 'operator'),
  ['operator.createUser: without the key', 'POST', 'operator.createUser', 'owner', { email: 'x@example.com', password: PW }, 'UNAUTHORIZED'],
  ['operator.createUser: unknown role', 'POST', 'operator.createUser', 'operator', { email: 'x@example.com', password: PW, role: 'root' }, 'BAD_REQUEST'],
  ['operator.createUser: taken email', 'POST', 'operator.createUser', 'operator', { email: 'OWNER@example.com', password: PW }, 'CONFLICT'],
  ...generic('operator.resetPassword', 'POST', 'operator'),
  ['operator.resetPassword: unknown email', 'POST', 'operator.resetPassword', 'operator', { email: 'nobody@example.com', password: PW }, 'NOT_FOUND'],
  ['operator.verifyAudit: without the key', 'GET', 'operator.verifyAudit', 'anon', undefined, 'UNAUTHORIZED'],
  ['unknown procedure', 'POST', 'nope.nothing', 'owner', {}, 'NOT_FOUND'],
  ['prototype path', 'GET', '__proto__.toString', 'anon', undefined, 'NOT_FOUND'],
  ['constructor path', 'POST', 'constructor', 'anon', undefined, 'NOT_FOUND'],
];

/** A tRPC error ({error: {message, data: {appCode}}}) or one refused before tRPC ({error: {code, message}}). */
function errorOf(body: Record<string, unknown>): { message: string; data: { appCode: string } } {
  const error = body['error'] as { message: string; code?: unknown; data?: { appCode: string } } | undefined;
  if (error?.data) return { message: error.message, data: error.data };
  if (typeof error?.code === 'string') return { message: error.message, data: { appCode: error.code } };
  throw new Error(`expected a typed error, got ${JSON.stringify(body).slice(0, 300)}`);
}

describe('the malformed-input corpus', () => {
  let t: TestManager;
  let headers: Record<Who, Record<string, string>>;
  let before: string;

  beforeAll(async () => {
    t = await startTestManager({ options: { accounts: { limits: { freeFailures: 1_000, freeFailuresPerAddress: 1_000 } } } });
    const { token } = await t.setupOwner('owner@example.com', PW);
    const operatorKey = readFileSync(operatorKeyPath(t.dir)).toString('base64url');
    headers = { anon: {}, owner: { authorization: `Bearer ${token}` }, operator: { authorization: `Operator ${operatorKey}` } };
    await t.client(token).auth.me.query();
    before = await t.dump();
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each(cases.map((c) => [`${c[0]} → ${c[5]}`, ...c.slice(1)] as Case))('%s', async (_name, method, path, who, input, expected) => {
    const res = await rawCall(t.url, method, path, { ...(input === undefined ? {} : { input }), headers: headers[who] });
    const error = errorOf(res.body);
    expect(ERROR_CODES).toContain(error.data.appCode);
    expect(error.data.appCode).toBe(expected);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(error.message).not.toMatch(/at .*\.ts:\d+|node_modules/);
    expect(await t.dump()).toBe(before);
  });

  it.each([
    ['malformed JSON', '{"email": "a@example.com", "password":'],
    ['JSON with a trailing comma', '{"email": "a@example.com",}'],
    ['an empty body', ''],
    ['a deeply nested body', `${'['.repeat(5_000)}${']'.repeat(5_000)}`],
  ])('answers %s with a typed error', async (_name, body) => {
    const res = await rawCall(t.url, 'POST', 'auth.signIn', { body });
    expect(ERROR_CODES).toContain(errorOf(res.body).data.appCode);
    expect(await t.dump()).toBe(before);
  });

  it('refuses a body over the limit and unknown content types without touching the database', async () => {
    const big = await rawCall(t.url, 'POST', 'auth.signIn', { body: JSON.stringify({ email: 'a@example.com', password: 'p'.repeat(100_000) }) });
    expect(big).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE' } } });
    const xml = await fetch(`${t.url}/trpc/auth.signIn`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' });
    expect(xml.status).toBe(415);
    expect(await xml.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    expect(await t.dump()).toBe(before);
  });

  it('a batch of bad calls gets one typed error each', async () => {
    const res = await fetch(`${t.url}/trpc/auth.signIn,auth.refresh,nope?batch=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ 0: { email: 1 }, 1: { token: 'bad' }, 2: {} }),
    });
    const body = (await res.json()) as Array<Record<string, unknown>>;
    expect(body.map((b) => errorOf(b).data.appCode)).toEqual(['BAD_REQUEST', 'BAD_REQUEST', 'NOT_FOUND']);
    expect(await t.dump()).toBe(before);
  });

  it('answers malformed WebSocket frames with typed errors and keeps the socket', async () => {
    const ws = new WebSocket(t.wsUrl);
    const received: Array<Record<string, unknown>> = [];
    ws.on('message', (d) => received.push(JSON.parse(d.toString()) as Record<string, unknown>));
    await new Promise((resolve) => ws.once('open', resolve));
    const frames = [
      '{not json',
      '[1,2,3]',
      '"just a string"',
      JSON.stringify({ id: 1, method: 'nope', params: {} }),
      JSON.stringify({ id: 2, method: 'mutation', params: { path: 'auth.signIn', input: { email: [], password: null } } }),
      JSON.stringify({ id: 3, method: 'mutation', params: { path: 'auth.completeSetup', input: { token: 'x' } } }),
      JSON.stringify({ id: 4, method: 'query', params: { path: 'audit.list' } }),
    ];
    for (const frame of frames) {
      const count = received.length;
      ws.send(frame);
      await expect.poll(() => received.length, { timeout: 2_000 }).toBeGreaterThan(count);
      expect(ERROR_CODES).toContain(errorOf(received[received.length - 1]!).data.appCode);
    }
    ws.send(JSON.stringify({ id: 9, method: 'query', params: { path: 'health' } }));
    await expect.poll(() => received.some((m) => m['id'] === 9 && 'result' in m), { timeout: 2_000 }).toBe(true);
    ws.close();
    expect(await t.dump()).toBe(before);
  });
});
