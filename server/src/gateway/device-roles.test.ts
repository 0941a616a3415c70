/**
 * Issue 8, item 4: a paired device must not be able to redirect the stored
 * API key. Devices have roles (owner | chat); only owners change settings or
 * revoke other devices; changing a provider's endpoint clears the key stored
 * for the old one unless the same call gives a key again; an environment key
 * never goes to an endpoint stored in settings; every change is audited.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TRPCClientError } from '@trpc/client';
import type { GatewayAuditEntry } from '@autoclaw/shared';
import { startAnthropicWireServer } from '../testing';
import type { WireServerHandle } from '../testing';
import type { GatewayConnection } from '../cli';
import type { AppRouter } from './router-type';
import { startTestGateway } from './test-kit';
import type { TestGateway } from './test-kit';

function appCode(err: unknown): string | undefined {
  return err instanceof TRPCClientError ? (err as TRPCClientError<AppRouter>).data?.appCode : undefined;
}

const MODEL = 'anthropic:claude-test-model';
const LEGIT_KEY = 'sk-ant-legit-0123456789';

/** Sends one message and waits for its turn to end; returns the final user message status and error code. */
async function turn(conn: GatewayConnection, name: string, text: string): Promise<{ status: string; code: string | null; answer: string | null }> {
  const { client } = conn;
  const session = await client.sessions.ensure.mutate({ name });
  const sent = await client.chat.send.mutate({ sessionId: session.id, clientId: `c-${name}-${Date.now()}`, text });
  for (let i = 0; i < 200; i++) {
    const history = await client.chat.history.query({ sessionId: session.id });
    const user = history.find((m) => m.id === sent.message.id);
    if (user && ['done', 'failed', 'interrupted', 'cancelled'].includes(user.status)) {
      const answer = history.filter((m) => m.turnId === user.id && m.role === 'assistant').at(-1);
      return { status: user.status, code: user.error?.code ?? answer?.error?.code ?? null, answer: answer?.text ?? null };
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the turn did not end');
}

const keysSeenBy = (wire: WireServerHandle): string[] =>
  wire.requests.map((r) => String(r.headers['x-api-key'] ?? r.headers.authorization ?? '').replace(/^Bearer /, ''));

describe('device roles and provider endpoints', () => {
  let t: TestGateway;
  let legit: WireServerHandle;
  let evil: WireServerHandle;
  beforeEach(async () => {
    legit = await startAnthropicWireServer({ apiKey: LEGIT_KEY, wordDelayMs: 0 });
    evil = await startAnthropicWireServer({ wordDelayMs: 0 });
  });
  afterEach(async () => {
    await t?.close();
    await legit.close();
    await evil.close();
  });

  it('a chat-only device chats but cannot change an endpoint or a key, revoke others or read the audit (FORBIDDEN, nothing changed)', async () => {
    t = await startTestGateway({ config: { env: { model: MODEL } } });
    const owner = t.connect(t.addDevice('laptop'));
    await owner.client.settings.set.mutate({ key: 'anthropic.baseUrl', value: legit.url, apiKey: LEGIT_KEY });
    const phoneKey = t.addDevice('phone', 'chat');
    const phone = t.connect(phoneKey);
    expect(await phone.client.auth.whoami.query()).toMatchObject({ deviceId: phoneKey.deviceId, role: 'chat' });
    const devices = await phone.client.devices.list.query();
    expect(devices.find((d) => d.id === phoneKey.deviceId)).toMatchObject({ role: 'chat', current: true });
    expect(devices.find((d) => d.name === 'laptop')).toMatchObject({ role: 'owner' });
    expect(devices.find((d) => d.kind === 'operator')).toMatchObject({ role: 'owner' });

    const before = t.gateway.store.dump();
    const refused = [
      phone.client.settings.set.mutate({ key: 'anthropic.baseUrl', value: evil.url }),
      phone.client.settings.set.mutate({ key: 'anthropic.baseUrl', value: evil.url, apiKey: 'sk-ant-mine' }),
      phone.client.settings.set.mutate({ key: 'anthropic.apiKey', value: 'sk-ant-mine' }),
      phone.client.settings.set.mutate({ key: 'model', value: 'openai:gpt-4o' }),
      phone.client.devices.revoke.mutate({ deviceId: devices.find((d) => d.name === 'laptop')!.id }),
      phone.client.devices.setRole.mutate({ deviceId: phoneKey.deviceId, role: 'owner' }),
      phone.client.audit.list.query({}),
    ];
    for (const call of refused) expect(appCode(await call.catch((e: unknown) => e))).toBe('FORBIDDEN');
    expect(t.gateway.store.dump()).toBe(before);

    // It still chats, through the owner's endpoint and key.
    expect(await turn(phone, 'phone-chat', 'hello from the phone')).toMatchObject({ status: 'done', answer: 'Echo: hello from the phone' });
    expect(evil.requests).toHaveLength(0);
    // And it may unpair itself (its socket closes with the revocation, so the answer may not arrive).
    await phone.client.devices.revoke.mutate({ deviceId: phoneKey.deviceId }).catch(() => undefined);
    expect(t.gateway.store.getDevice(phoneKey.deviceId)?.revokedAt).not.toBeNull();
  });

  it('changing an endpoint clears the stored key, so the server at the new URL never sees it; the change is audited', async () => {
    t = await startTestGateway({ config: { env: { model: MODEL } } });
    const ownerKey = t.addDevice('laptop');
    const owner = t.connect(ownerKey);
    await owner.client.settings.set.mutate({ key: 'anthropic.baseUrl', value: legit.url });
    await owner.client.settings.set.mutate({ key: 'anthropic.apiKey', value: LEGIT_KEY });
    expect(await turn(owner, 'before', 'first')).toMatchObject({ status: 'done', answer: 'Echo: first' });

    const view = await owner.client.settings.set.mutate({ key: 'anthropic.baseUrl', value: evil.url });
    expect(view.values['anthropic.apiKey']).toEqual({ source: 'unset', value: null });
    expect(await turn(owner, 'after', 'second')).toMatchObject({ status: 'failed', code: 'NOT_CONFIGURED' });
    expect(keysSeenBy(evil).join(' ')).not.toContain(LEGIT_KEY);

    // The key given again in the same call goes with the new endpoint.
    await owner.client.settings.set.mutate({ key: 'anthropic.baseUrl', value: evil.url, apiKey: 'sk-ant-for-evil' });
    expect(await turn(owner, 'again', 'third')).toMatchObject({ status: 'done', answer: 'Echo: third' });
    expect(keysSeenBy(evil)).toEqual(['sk-ant-for-evil']);
    expect(keysSeenBy(evil).join(' ')).not.toContain(LEGIT_KEY);

    const { entries } = await owner.client.audit.list.query({});
    const endpoint = entries.filter((e: GatewayAuditEntry) => e.action === 'settings.endpoint');
    const [given, cleared, first] = endpoint;
    expect(endpoint).toHaveLength(3);
    expect(cleared).toMatchObject({
      deviceId: ownerKey.deviceId,
      target: 'anthropic.baseUrl',
      oldValue: new URL(legit.url).host,
      newValue: new URL(evil.url).host,
      detail: expect.stringMatching(/anthropic\.apiKey cleared/),
    });
    expect(first).toMatchObject({ oldValue: 'default', newValue: new URL(legit.url).host, detail: 'no stored key' });
    expect(given).toMatchObject({ oldValue: new URL(evil.url).host, newValue: new URL(evil.url).host, detail: 'anthropic.apiKey entered with it' });
    expect(entries.find((e) => e.target === 'anthropic.apiKey')).toMatchObject({ action: 'settings.set', oldValue: null, newValue: null });
    expect(JSON.stringify(entries)).not.toContain('sk-ant');
    // Newest first, and no way to edit or delete what was written.
    expect(entries[0]!.seq).toBeGreaterThan(entries.at(-1)!.seq);
  });

  it('an environment key is never sent to an endpoint stored in settings', async () => {
    t = await startTestGateway({ config: { env: { model: MODEL, 'anthropic.apiKey': LEGIT_KEY } } });
    const owner = t.connect(t.addDevice('laptop'));
    const view = await owner.client.settings.set.mutate({ key: 'anthropic.baseUrl', value: evil.url });
    expect(view.values['anthropic.apiKey']).toEqual({ source: 'unset', value: null });
    expect(await turn(owner, 'env', 'hello')).toMatchObject({ status: 'failed', code: 'NOT_CONFIGURED' });
    expect(keysSeenBy(evil).join(' ')).not.toContain(LEGIT_KEY);
  });

  it('an environment endpoint keeps the environment key: stored endpoints do not apply', async () => {
    t = await startTestGateway({ config: { env: { model: MODEL, 'anthropic.apiKey': LEGIT_KEY, 'anthropic.baseUrl': legit.url } } });
    const owner = t.connect(t.addDevice('laptop'));
    await owner.client.settings.set.mutate({ key: 'anthropic.baseUrl', value: evil.url });
    expect(await turn(owner, 'env-url', 'hello')).toMatchObject({ status: 'done', answer: 'Echo: hello' });
    expect(evil.requests).toHaveLength(0);
  });

  it('an owner can make a chat device an owner and back; the operator and manager devices keep theirs', async () => {
    t = await startTestGateway({ config: { env: { model: MODEL } } });
    const owner = t.connect(t.addDevice('laptop'));
    const phoneKey = t.addDevice('phone', 'chat');
    expect((await owner.client.devices.setRole.mutate({ deviceId: phoneKey.deviceId, role: 'owner' })).role).toBe('owner');
    expect(t.gateway.store.getDevice(phoneKey.deviceId)?.role).toBe('owner');
    const operator = (await owner.client.devices.list.query()).find((d) => d.kind === 'operator')!;
    expect(appCode(await owner.client.devices.setRole.mutate({ deviceId: operator.id, role: 'chat' }).catch((e: unknown) => e))).toBe('FORBIDDEN');
    const { entries } = await owner.client.audit.list.query({});
    expect(entries[0]).toMatchObject({ action: 'devices.role', target: phoneKey.deviceId, newValue: 'owner', oldValue: 'chat' });
  });
});
